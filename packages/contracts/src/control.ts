import { z } from 'zod';
import { IdSchema } from './common.js';

/**
 * Messages from the API to whichever process executes a run, over the event bus's control
 * channel: pause, resume or cancel a run. Conflict decisions never travel here: a run does
 * not wait for them, and a `conflict-resolution` run applies them.
 */
export const RunControlMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('pause'), runId: IdSchema }),
  z.object({ type: z.literal('resume'), runId: IdSchema }),
  z.object({ type: z.literal('cancel'), runId: IdSchema }),
]);
export type RunControlMessage = z.infer<typeof RunControlMessageSchema>;
