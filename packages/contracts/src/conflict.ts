import { z } from 'zod';
import { IdSchema, TimestampSchema } from './common.js';
import { EntrySchema } from './entry.js';
import { ConflictResolutionSchema } from './enums.js';

export const ConflictStatusSchema = z.enum(['pending', 'resolved']);
export type ConflictStatus = z.infer<typeof ConflictStatusSchema>;

/**
 * A conflict a MANUAL pair is waiting on, with both sides' metadata as seen when it was
 * detected (null: absent on that side). A pending conflict never changes either side.
 */
export const ConflictSchema = z.object({
  id: IdSchema,
  pairId: IdSchema,
  /** The run that detected it. */
  runId: IdSchema.nullable(),
  path: z.string(),
  source: EntrySchema.nullable(),
  destination: EntrySchema.nullable(),
  status: ConflictStatusSchema,
  /** The decision taken; `skip` leaves the conflict pending (SPEC §6). */
  resolution: ConflictResolutionSchema.nullable(),
  resolvedBy: z.string().nullable(),
  resolvedAt: TimestampSchema.nullable(),
  detectedAt: TimestampSchema,
});
export type Conflict = z.infer<typeof ConflictSchema>;

export const ConflictListQuerySchema = z.object({
  status: ConflictStatusSchema.optional(),
  pairId: IdSchema.optional(),
});
export type ConflictListQuery = z.infer<typeof ConflictListQuerySchema>;

export const ConflictListSchema = z.object({ items: z.array(ConflictSchema) });
export type ConflictList = z.infer<typeof ConflictListSchema>;

/** `POST /conflicts/:id/resolve` body. */
export const ResolveConflictSchema = z.object({ resolution: ConflictResolutionSchema });
export type ResolveConflict = z.infer<typeof ResolveConflictSchema>;
