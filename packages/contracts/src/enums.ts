import { z } from 'zod';

/**
 * The engine's enumerations, repeated here so that browsers can validate without
 * importing the engine. The values must stay identical to `@syncengine/engine`'s.
 */
export const SyncModeSchema = z.enum([
  'TWO_WAY',
  'SOURCE_TO_DESTINATION',
  'SOURCE_BACKUP',
  'DESTINATION_TO_SOURCE',
  'DESTINATION_BACKUP',
]);
export type SyncMode = z.infer<typeof SyncModeSchema>;

export const ComparisonModeSchema = z.enum([
  'HASH_THEN_MTIME',
  'SIZE_ONLY',
  'HASH_ONLY',
  'MTIME_ONLY',
  'SIZE_AND_MTIME',
]);
export type ComparisonMode = z.infer<typeof ComparisonModeSchema>;

export const ConflictStrategySchema = z.enum(['NEWEST_WINS', 'SOURCE_WINS', 'DESTINATION_WINS', 'MANUAL']);
export type ConflictStrategy = z.infer<typeof ConflictStrategySchema>;

/** How one conflict is settled (SPEC §6). */
export const ConflictResolutionSchema = z.enum(['source', 'destination', 'keep-both', 'skip']);
export type ConflictResolution = z.infer<typeof ConflictResolutionSchema>;

export const ActionTypeSchema = z.enum([
  'UPLOAD_NEW',
  'UPLOAD_UPDATE',
  'UPLOAD_RESTORE',
  'DOWNLOAD_NEW',
  'DOWNLOAD_UPDATE',
  'DOWNLOAD_RESTORE',
  'DELETE_SOURCE',
  'DELETE_DESTINATION',
  'RENAME_SOURCE',
  'RENAME_DESTINATION',
  'NO_ACTION',
  'CONFLICT',
]);
export type ActionType = z.infer<typeof ActionTypeSchema>;

export const SideSchema = z.enum(['source', 'destination']);
export type Side = z.infer<typeof SideSchema>;
