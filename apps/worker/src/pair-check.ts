import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { PairRecord } from '@syncengine/db';
import type { SecretBox } from '@syncengine/runs';

const isWithin = (parent: string, child: string) => {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
};

/**
 * Why this worker cannot run the pair as configured, or null when it can: a location that
 * does not parse, a credential it cannot decrypt (a different SYNCENGINE_SECRET_KEY), a
 * local path outside its SYNCENGINE_ALLOWED_ROOTS. Such a run fails at once, never retried.
 */
export function findPairConfigProblem(
  pair: PairRecord,
  deps: { secrets: Pick<SecretBox, 'open'>; allowedRoots: string[] },
): string | null {
  for (const side of ['source', 'destination'] as const) {
    let location: ReturnType<SecretBox['open']>;
    try {
      location = deps.secrets.open(pair[side]);
    } catch (error) {
      return `the ${side} location is invalid: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (location.type === 'local') {
      const path = resolve(location.path);
      if (!deps.allowedRoots.some((root) => isWithin(root, path))) {
        return `the ${side} path "${location.path}" is outside this worker's allowed roots (${deps.allowedRoots.join(', ')}); set SYNCENGINE_ALLOWED_ROOTS`;
      }
    }
  }
  return null;
}
