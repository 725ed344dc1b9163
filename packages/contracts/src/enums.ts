import {
  ACTION_TYPES,
  COMPARISON_MODES,
  CONFLICT_RESOLUTIONS,
  CONFLICT_STRATEGIES,
  SYNC_MODES,
} from '@syncengine/engine/model';
import { z } from 'zod';

/**
 * The engine's enumerations as zod schemas. They come from the engine's model module,
 * which imports nothing, so browsers can validate without loading the engine itself.
 */
export const SyncModeSchema = z.enum(SYNC_MODES);
export type SyncMode = z.infer<typeof SyncModeSchema>;

export const ComparisonModeSchema = z.enum(COMPARISON_MODES);
export type ComparisonMode = z.infer<typeof ComparisonModeSchema>;

export const ConflictStrategySchema = z.enum(CONFLICT_STRATEGIES);
export type ConflictStrategy = z.infer<typeof ConflictStrategySchema>;

/** How one conflict is settled (SPEC §6). */
export const ConflictResolutionSchema = z.enum(CONFLICT_RESOLUTIONS);
export type ConflictResolution = z.infer<typeof ConflictResolutionSchema>;

export const ActionTypeSchema = z.enum(ACTION_TYPES);
export type ActionType = z.infer<typeof ActionTypeSchema>;

export const SideSchema = z.enum(['source', 'destination']);
export type Side = z.infer<typeof SideSchema>;
