import {
  type CreatePair,
  type Location,
  locationSecretFields,
  type Pair,
  type UpdatePair,
} from '@syncengine/contracts';
import type { PairPatch, PairRecord, PairRepo, RunRepo, StoredLocation } from '@syncengine/db';
import {
  assertValidCron,
  type EventBus,
  type JobQueue,
  MissingSecretKeyError,
  type SecretBox,
} from '@syncengine/runs';
import { isWithin, type PathGuard, PathNotAllowedError } from '../confinement.js';
import { AppError } from '../errors.js';

/** A stored location as answered: its secret fields (encrypted at rest) left out, not decrypted. */
function publicLocation(stored: StoredLocation): Location {
  const copy: Record<string, unknown> = { ...stored };
  if (stored.type === 'local' || stored.type === 'sftp' || stored.type === 's3' || stored.type === 'webdav') {
    for (const field of locationSecretFields(stored.type)) delete copy[field];
  }
  return copy as Location;
}

/** The pair as answered: secret fields removed from both locations. */
export function toPublicPair(pair: PairRecord): Pair {
  return { ...pair, source: publicLocation(pair.source), destination: publicLocation(pair.destination) };
}

export function createPairService(deps: {
  pairs: Pick<PairRepo, 'list' | 'get' | 'create' | 'update' | 'delete'>;
  runs: Pick<RunRepo, 'activeForPair'>;
  queue: Pick<JobQueue, 'upsertSchedule' | 'removeSchedule'>;
  bus: Pick<EventBus, 'publish'>;
  paths: PathGuard;
  secrets: SecretBox;
}) {
  const toPublic = toPublicPair;

  async function checkLocations(source: Location, destination: Location): Promise<void> {
    const real: Record<string, string> = {};
    for (const [side, location] of [
      ['source', source],
      ['destination', destination],
    ] as const) {
      if (location.type !== 'local') continue;
      try {
        real[side] = await deps.paths.check(location.path);
      } catch (error) {
        if (error instanceof PathNotAllowedError) {
          throw new AppError('BAD_REQUEST', error.message, { field: `${side}.path` });
        }
        throw error;
      }
    }
    if (
      real.source &&
      real.destination &&
      (isWithin(real.source, real.destination) || isWithin(real.destination, real.source))
    ) {
      throw new AppError(
        'BAD_REQUEST',
        'source and destination must not be the same folder or inside each other',
        { field: 'destination.path' },
      );
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

  /** A location sent without its secrets (the client never sees them) keeps the stored ones. */
  function keepSecrets(next: Location, stored: StoredLocation): Location {
    if (next.type !== stored.type) return next;
    const merged: Record<string, unknown> = { ...next };
    for (const field of locationSecretFields(next.type)) {
      if (merged[field] === undefined && stored[field] !== undefined) merged[field] = stored[field];
    }
    return merged as Location;
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
    async list(): Promise<Pair[]> {
      return (await deps.pairs.list()).map(toPublic);
    },
    async get(id: string): Promise<Pair> {
      return toPublic(await getRecord(id));
    },
    async create(input: CreatePair): Promise<Pair> {
      await checkLocations(input.source, input.destination);
      checkSchedule(input.schedule);
      const pair = await deps.pairs.create({
        ...input,
        source: seal(input.source),
        destination: seal(input.destination),
      });
      await syncSchedule(pair);
      const answer = toPublic(pair);
      await deps.bus.publish({ type: 'pair.updated', pair: answer });
      return answer;
    },
    async update(id: string, patch: UpdatePair): Promise<Pair> {
      const current = await getRecord(id);
      const { source, destination, concurrency, ...rest } = patch;
      const nextSource = source ? keepSecrets(source, current.source) : null;
      const nextDestination = destination ? keepSecrets(destination, current.destination) : null;
      if (nextSource || nextDestination) {
        await checkLocations(
          nextSource ?? deps.secrets.open(current.source),
          nextDestination ?? deps.secrets.open(current.destination),
        );
      }
      checkSchedule(patch.schedule);
      const changes: PairPatch = { ...rest };
      if (nextSource) changes.source = seal(nextSource);
      if (nextDestination) changes.destination = seal(nextDestination);
      if (concurrency) changes.concurrency = { ...current.concurrency, ...concurrency };
      const updated = await deps.pairs.update(id, changes);
      if (!updated) throw new AppError('NOT_FOUND', `no pair with id ${id}`);
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
      await deps.bus.publish({ type: 'pair.deleted', pairId: id });
    },
  };
}
export type PairService = ReturnType<typeof createPairService>;
