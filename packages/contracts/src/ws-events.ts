import { z } from 'zod';
import { IdSchema } from './common.js';
import { ConflictSchema } from './conflict.js';
import { SideSchema } from './enums.js';
import { PairSchema } from './pair.js';
import { RunActionSchema, RunProgressSchema, RunSchema } from './run.js';
import { WatchEventSchemas } from './watch.js';

/**
 * Messages the server sends on `/api/v1/ws`. Every message is JSON `{type, ...}`. The
 * first one after connecting is a `snapshot`; the rest follow as things happen.
 * `run.progress` is throttled to at most 10 a second per run.
 */
export const SnapshotEventSchema = z.object({
  type: z.literal('snapshot'),
  /** Runs that are queued, running or paused. */
  activeRuns: z.array(RunSchema),
  pendingConflicts: z.array(ConflictSchema),
});

const runEvent = <T extends string>(type: T) => z.object({ type: z.literal(type), run: RunSchema });
const runRefEvent = <T extends string>(type: T) =>
  z.object({ type: z.literal(type), runId: IdSchema, pairId: IdSchema });

export const WsEventSchema = z.discriminatedUnion('type', [
  SnapshotEventSchema,
  runEvent('run.queued'),
  runEvent('run.started'),
  z.object({
    type: z.literal('run.progress'),
    runId: IdSchema,
    pairId: IdSchema,
    progress: RunProgressSchema,
  }),
  z.object({
    type: z.literal('run.action'),
    runId: IdSchema,
    pairId: IdSchema,
    action: RunActionSchema,
  }),
  runRefEvent('run.paused'),
  runRefEvent('run.resumed'),
  runEvent('run.completed'),
  runEvent('run.failed'),
  runEvent('run.cancelled'),
  z.object({ type: z.literal('conflict.created'), conflict: ConflictSchema }),
  z.object({ type: z.literal('conflict.resolved'), conflict: ConflictSchema }),
  /** A kept version was put back at its path (by the API, or by a `version-restore` job). */
  z.object({
    type: z.literal('version.restored'),
    pairId: IdSchema,
    side: SideSchema,
    path: z.string(),
  }),
  z.object({ type: z.literal('pair.updated'), pair: PairSchema }),
  z.object({ type: z.literal('pair.deleted'), pairId: IdSchema }),
  ...WatchEventSchemas,
]);
export type WsEvent = z.infer<typeof WsEventSchema>;
export type WsEventType = WsEvent['type'];
/** The event of one type, e.g. `WsEventOf<'run.progress'>`. */
export type WsEventOf<T extends WsEventType> = Extract<WsEvent, { type: T }>;
/**
 * Between server processes only, never sent to clients: a session or token of this user
 * was revoked, so each server closes the user's sockets whose credentials no longer hold.
 */
export const CredentialsRevokedEventSchema = z.object({
  type: z.literal('credentials.revoked'),
  userId: z.string(),
});
/** What travels over the event bus: the WebSocket events (but the snapshot) and server-only notices. */
export const BusEventSchema = z.union([WsEventSchema, CredentialsRevokedEventSchema]);
/** Events that can travel over the event bus (everything but the per-connection snapshot). */
export type BusEvent = Exclude<WsEvent, { type: 'snapshot' }> | z.infer<typeof CredentialsRevokedEventSchema>;
