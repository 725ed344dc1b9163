import type { Location } from '@syncengine/contracts';
import type { PairRecord } from '@syncengine/db';
import { type PathGuard, PathNotAllowedError } from '@syncengine/locations';
import type { SecretBox } from '@syncengine/secrets';

/** A pair's two locations, decrypted. */
export interface PairLocations {
  source: Location;
  destination: Location;
}

/**
 * The pair's locations, decrypted, or why this process cannot run the pair as configured:
 * a location that does not parse, a credential it cannot decrypt (a different
 * SYNCENGINE_SECRET_KEY), a local path its SYNCENGINE_ALLOWED_ROOTS do not allow. Such a
 * run fails at once, never retried.
 */
export async function checkPairConfig(
  pair: PairRecord,
  deps: { secrets: Pick<SecretBox, 'open'>; paths: PathGuard },
): Promise<{ locations: PairLocations; problem: null } | { locations: null; problem: string }> {
  const open = async (side: 'source' | 'destination'): Promise<Location | string> => {
    let location: Location;
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
    return location;
  };
  const source = await open('source');
  if (typeof source === 'string') return { locations: null, problem: source };
  const destination = await open('destination');
  if (typeof destination === 'string') return { locations: null, problem: destination };
  return { locations: { source, destination }, problem: null };
}
