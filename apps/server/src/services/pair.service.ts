import { mkdir, stat } from 'node:fs/promises';
import {
  type BusEvent,
  type CreatePair,
  LOCATION_TYPES,
  type Location,
  type LocationType,
  locationSecretFields,
  type Pair,
  type RedactedLocation,
  redactLocation,
  type UpdatePair,
} from '@syncengine/contracts';
import type { PairPatch, PairRecord, PairRepo, RunRepo, StoredLocation } from '@syncengine/db';
import { confineLocation, isOverlapping, type PathGuard, PathNotAllowedError } from '@syncengine/locations';
import { assertValidCron, type EventBus, type JobQueue, nextScheduledRun } from '@syncengine/runs';
import { MissingSecretKeyError, type SecretBox } from '@syncengine/secrets';
import { AppError } from '../errors.js';

const isLocationType = (type: string): type is LocationType =>
  (LOCATION_TYPES as readonly string[]).includes(type);

/**
 * A stored location as answered: its secret fields (encrypted at rest) left out, not
 * decrypted, and `secretsSet` naming those that are stored.
 */
/** Redacted forms of stored locations, reused while the list of pairs is kept in memory. */
const redacted = new WeakMap<StoredLocation, Readonly<RedactedLocation>>();

function publicLocation(stored: StoredLocation): RedactedLocation {
  const known = redacted.get(stored);
  if (known) return known;
  // Only the presence of the secret fields is read, so the stored form will do.
  const answer = isLocationType(stored.type)
    ? redactLocation(stored as Location)
    : { ...(stored as Location), secretsSet: [] };
  redacted.set(stored, answer);
  return answer;
}

/** When the pair's schedule fires next; null without one, while disabled, or for an unreadable cron. */
function nextRunAt(pair: PairRecord): string | null {
  if (!pair.enabled || !pair.schedule) return null;
  try {
    return nextScheduledRun(pair.schedule).toISOString();
  } catch {
    return null;
  }
}

/** The pair as answered: secret fields removed from both locations. */
export function toPublicPair(pair: PairRecord): Pair {
  return {
    ...pair,
    source: publicLocation(pair.source),
    destination: publicLocation(pair.destination),
    nextRunAt: nextRunAt(pair),
  };
}

/**
 * How long the list of pairs is answered from memory at most. Changes to pairs and runs
 * are announced on the event bus and drop it at once; this bounds what a lost message or
 * a change made outside the API could leave stale.
 */
export const PAIR_LIST_CACHE_TTL_MS = 1_000;

/** One read of the stored pairs, and the public list made from it. */
interface ListRead {
  at: number;
  records: Promise<PairRecord[]>;
  /** Answered again until `staleAt` (ms), when the earliest `nextRunAt` in it has passed. */
  answer?: { pairs: Pair[]; staleAt: number };
}

/** Events after which the list (a pair, or the latest run of one) may read differently. */
const changesList = (event: BusEvent): boolean =>
  event.type.startsWith('pair.') ||
  (event.type.startsWith('run.') && event.type !== 'run.progress' && event.type !== 'run.action');

export function createPairService(deps: {
  pairs: Pick<PairRepo, 'list' | 'get' | 'create' | 'update' | 'delete'>;
  runs: Pick<RunRepo, 'activeForPair'>;
  queue: Pick<JobQueue, 'upsertSchedule' | 'removeSchedule'>;
  bus: Pick<EventBus, 'publish'> & Partial<Pick<EventBus, 'subscribe'>>;
  paths: PathGuard;
  secrets: SecretBox;
  listCacheTtlMs?: number;
  now?: () => number;
}) {
  const toPublic = toPublicPair;
  const now = deps.now ?? Date.now;
  const listCacheTtlMs = deps.listCacheTtlMs ?? PAIR_LIST_CACHE_TTL_MS;
  /**
   * The stored pairs as last read; requests that arrive while it is read share the read,
   * and a change drops it even while it is being read. Without a bus to hear changes on,
   * nothing is kept.
   */
  let listed: ListRead | null = null;
  const forgetList = () => {
    listed = null;
  };
  const isListCached = deps.bus.subscribe !== undefined && listCacheTtlMs > 0;
  deps.bus.subscribe?.((event) => {
    if (changesList(event)) forgetList();
  });
  function listRead(): ListRead {
    const at = now();
    if (!isListCached) return { at, records: deps.pairs.list() };
    if (listed && at - listed.at < listCacheTtlMs) return listed;
    const records = deps.pairs.list();
    const entry: ListRead = { at, records };
    listed = entry;
    records.catch(() => {
      if (listed === entry) listed = null;
    });
    return entry;
  }

  /**
   * A local folder must exist when the pair is saved (a typo would otherwise sync into a
   * new empty folder); with `createFolders` a missing one is created instead.
   */
  async function checkFolderExists(
    side: 'source' | 'destination',
    given: string,
    real: string,
    createFolders: boolean,
  ): Promise<void> {
    const label = side === 'source' ? 'Source folder' : 'Destination folder';
    const stats = await stat(real).catch(() => null);
    if (stats?.isDirectory()) return;
    if (stats)
      throw new AppError('BAD_REQUEST', `${label} ${given} is not a folder`, { field: `${side}.path` });
    if (!createFolders) {
      throw new AppError('BAD_REQUEST', `${label} ${given} does not exist`, { field: `${side}.path` });
    }
    await mkdir(real, { recursive: true });
  }

  async function checkLocations(
    source: Location,
    destination: Location,
    createFolders = false,
  ): Promise<void> {
    const real: Record<string, string> = {};
    for (const [side, location] of [
      ['source', source],
      ['destination', destination],
    ] as const) {
      try {
        const confined = await confineLocation(location, deps.paths);
        if (confined.type === 'local') real[side] = confined.path;
      } catch (error) {
        if (error instanceof PathNotAllowedError) {
          throw new AppError('BAD_REQUEST', error.message, { field: `${side}.${error.field ?? 'path'}` });
        }
        throw error;
      }
    }
    if (real.source && real.destination && isOverlapping(real.source, real.destination)) {
      throw new AppError(
        'BAD_REQUEST',
        'source and destination must not be the same folder or inside each other',
        { field: 'destination.path' },
      );
    }
    for (const [side, location] of [
      ['source', source],
      ['destination', destination],
    ] as const) {
      const path = real[side];
      if (location.type === 'local' && path)
        await checkFolderExists(side, location.path, path, createFolders);
    }
  }

  function seal(location: Location): StoredLocation {
    try {
      return deps.secrets.seal(location);
    } catch (error) {
      if (error instanceof MissingSecretKeyError) throw new AppError('BAD_REQUEST', error.message);
      throw error;
    }
  }

  /**
   * A changed location sent without its secrets (the client never sees them) keeps the
   * stored ones, still encrypted, as long as its type stays the same; a location of
   * another type starts with only the secrets sent. An empty string clears a secret.
   */
  function sealKeepingSecrets(next: Location, stored: StoredLocation): StoredLocation {
    const sealed = seal(next);
    if (next.type !== stored.type) return sealed;
    for (const field of locationSecretFields(next.type)) {
      if (sealed[field] === undefined && stored[field] !== undefined) sealed[field] = stored[field];
    }
    return sealed;
  }

  async function syncSchedule(pair: PairRecord): Promise<void> {
    if (pair.schedule && pair.enabled) await deps.queue.upsertSchedule(pair.id, pair.schedule);
    else await deps.queue.removeSchedule(pair.id);
  }

  function checkSchedule(schedule: string | null | undefined) {
    if (!schedule) return;
    try {
      assertValidCron(schedule);
    } catch (error) {
      throw new AppError('BAD_REQUEST', error instanceof Error ? error.message : 'invalid cron expression', {
        field: 'schedule',
      });
    }
  }

  async function getRecord(id: string): Promise<PairRecord> {
    const pair = await deps.pairs.get(id);
    if (!pair) throw new AppError('NOT_FOUND', `no pair with id ${id}`);
    return pair;
  }

  return {
    getRecord,
    /**
     * Forgets the pairs as last read, so that the next list reads the database: called when
     * a database connection drops, so that an outage is answered as one, not from memory.
     */
    forgetList,
    /**
     * Every pair with its latest run. While the pairs as last read are kept, the same array
     * is answered (callers must not change it), until a pair's `nextRunAt` has passed.
     */
    async list(): Promise<Pair[]> {
      const read = listRead();
      const records = await read.records;
      if (read.answer && now() < read.answer.staleAt) return read.answer.pairs;
      const pairs = records.map(toPublic);
      let staleAt = Number.POSITIVE_INFINITY;
      for (const pair of pairs) if (pair.nextRunAt) staleAt = Math.min(staleAt, Date.parse(pair.nextRunAt));
      read.answer = { pairs, staleAt };
      return pairs;
    },
    async get(id: string): Promise<Pair> {
      return toPublic(await getRecord(id));
    },
    async create(input: CreatePair, options: { createFolders?: boolean } = {}): Promise<Pair> {
      await checkLocations(input.source, input.destination, options.createFolders);
      checkSchedule(input.schedule);
      const pair = await deps.pairs.create({
        ...input,
        source: seal(input.source),
        destination: seal(input.destination),
      });
      forgetList();
      await syncSchedule(pair);
      const answer = toPublic(pair);
      await deps.bus.publish({ type: 'pair.updated', pair: answer });
      return answer;
    },
    async update(id: string, patch: UpdatePair, options: { createFolders?: boolean } = {}): Promise<Pair> {
      const current = await getRecord(id);
      const { source, destination, concurrency, watch, ...rest } = patch;
      if (source || destination) {
        await checkLocations(
          source ?? publicLocation(current.source),
          destination ?? publicLocation(current.destination),
          options.createFolders,
        );
      }
      checkSchedule(patch.schedule);
      const changes: PairPatch = { ...rest };
      if (source) changes.source = sealKeepingSecrets(source, current.source);
      if (destination) changes.destination = sealKeepingSecrets(destination, current.destination);
      if (concurrency) changes.concurrency = { ...current.concurrency, ...concurrency };
      if (watch) changes.watch = { ...current.watch, ...watch };
      const updated = await deps.pairs.update(id, changes);
      if (!updated) throw new AppError('NOT_FOUND', `no pair with id ${id}`);
      forgetList();
      await syncSchedule(updated);
      const answer = toPublic(updated);
      await deps.bus.publish({ type: 'pair.updated', pair: answer });
      return answer;
    },
    /** Deletes the pair with its state, runs and conflicts. Refused while a run is active. */
    async delete(id: string): Promise<void> {
      await getRecord(id);
      const active = await deps.runs.activeForPair(id);
      if (active) {
        throw new AppError(
          'CONFLICT',
          `run ${active.id} of this pair is ${active.status}; cancel it before deleting the pair`,
        );
      }
      await deps.queue.removeSchedule(id);
      if (!(await deps.pairs.delete(id))) throw new AppError('NOT_FOUND', `no pair with id ${id}`);
      forgetList();
      await deps.bus.publish({ type: 'pair.deleted', pairId: id });
    },
  };
}
export type PairService = ReturnType<typeof createPairService>;
