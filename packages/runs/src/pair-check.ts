import type { PairRecord } from '@syncengine/db';
import { type PathGuard, PathNotAllowedError } from '@syncengine/locations';
import type { SecretBox } from './secrets.js';

/**
 * Why this worker cannot run the pair as configured, or null when it can: a location that
 * does not parse, a credential it cannot decrypt (a different SYNCENGINE_SECRET_KEY), a
 * local path its SYNCENGINE_ALLOWED_ROOTS do not allow. Such a run fails at once, never retried.
 */
export async function findPairConfigProblem(
  pair: PairRecord,
  deps: { secrets: Pick<SecretBox, 'open'>; paths: PathGuard },
): Promise<string | null> {
  for (const side of ['source', 'destination'] as const) {
    let location: ReturnType<SecretBox['open']>;
    try {
      location = deps.secrets.open(pair[side]);
    } catch (error) {
      return `the ${side} location is invalid: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (location.type === 'local') {
      try {
        await deps.paths.check(location.path);
      } catch (error) {
        if (error instanceof PathNotAllowedError)
          return `the ${side} path is refused by this worker: ${error.message}`;
        throw error;
      }
    }
  }
  return null;
}
