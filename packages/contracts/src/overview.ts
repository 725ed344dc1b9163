import { z } from 'zod';
import { IdSchema } from './common.js';
import { RunActionSchema } from './run.js';

/** `GET /runs` and `GET /changes` query: how many of the newest to answer. */
export const RecentQuerySchema = z.object({
  limit: z.coerce
    .number({ error: 'limit must be a number' })
    .int('limit must be a whole number')
    .min(1, 'limit must be at least 1')
    .max(200, 'limit must be at most 200')
    .default(20),
});
export type RecentQuery = z.output<typeof RecentQuerySchema>;

/** One change a run made (or failed to make), with its pair: the overview's feed. */
export const ChangeSchema = RunActionSchema.extend({ pairId: IdSchema });
export type Change = z.infer<typeof ChangeSchema>;

export const ChangeListSchema = z.object({ items: z.array(ChangeSchema) });
export type ChangeList = z.infer<typeof ChangeListSchema>;

/** An allowed root with the free space of its file system (null where it cannot be read). */
export const AllowedRootSchema = z.object({
  path: z.string(),
  exists: z.boolean(),
  freeBytes: z.number().nonnegative().nullable(),
  totalBytes: z.number().nonnegative().nullable(),
});
export type AllowedRoot = z.infer<typeof AllowedRootSchema>;

/** `GET /system`: what the overview's server panel shows. */
export const ServerInfoSchema = z.object({
  version: z.string(),
  /** `embedded`: runs execute in the server; `distributed`: workers take them from Redis. */
  mode: z.enum(['embedded', 'distributed']),
  database: z.enum(['postgres', 'pglite']),
  dataDir: z.string(),
  allowedRoots: z.array(AllowedRootSchema),
  /** Runs waiting for a worker, running and paused. */
  runs: z.object({
    queued: z.number().int().nonnegative(),
    running: z.number().int().nonnegative(),
    paused: z.number().int().nonnegative(),
  }),
  /** Workers connected to the queue in the distributed mode; null in the embedded mode. */
  workersOnline: z.number().int().nonnegative().nullable(),
});
export type ServerInfo = z.infer<typeof ServerInfoSchema>;
