import { z } from 'zod';
import { IdSchema } from './common.js';
import { ConflictResolutionSchema } from './enums.js';

/**
 * Messages from the API to whichever process executes a run, over the event bus's control
 * channel: pause/resume/cancel a run, and a manual conflict decision for a live run.
 */
export const RunControlMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('pause'), runId: IdSchema }),
  z.object({ type: z.literal('resume'), runId: IdSchema }),
  z.object({ type: z.literal('cancel'), runId: IdSchema }),
  z.object({
    type: z.literal('conflict.decision'),
    runId: IdSchema,
    conflictId: IdSchema,
    path: z.string(),
    resolution: ConflictResolutionSchema,
  }),
]);
export type RunControlMessage = z.infer<typeof RunControlMessageSchema>;
