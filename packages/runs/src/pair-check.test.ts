import type { PairRecord } from '@syncengine/db';
import { createPathGuard } from '@syncengine/locations';
import { createSecretBox } from '@syncengine/secrets';
import { describe, expect, it } from 'vitest';
import { checkPairConfig } from './pair-check.js';

const serverKey = 'k'.repeat(40);

const pair = (source: PairRecord['source'], destination: PairRecord['destination']): PairRecord => ({
  id: '00000000-0000-4000-8000-000000000001',
  name: 'p',
  source,
  destination,
  mode: 'TWO_WAY',
  comparisonMode: 'HASH_THEN_MTIME',
  conflictResolution: 'NEWEST_WINS',
  ignorePatterns: [],
  concurrency: { transfers: 2, operations: 4 },
  maxDeletePercent: 50,
  bandwidthLimit: null,
  schedule: null,
  enabled: true,
  watch: { enabled: false, debounceMs: 1_000, rescanMinutes: 60, pollSeconds: 60 },
  createdAt: new Date(0).toISOString(),
  updatedAt: new Date(0).toISOString(),
  lastRun: null,
});

describe('checkPairConfig', () => {
  const paths = createPathGuard(['/srv/sync']);

  it('accepts local paths under the allowed roots and credentials it can decrypt, and gives them decrypted', async () => {
    const secrets = createSecretBox(serverKey);
    const location = {
      type: 'sftp',
      host: 'h',
      port: 22,
      username: 'u',
      password: 'secret',
      path: '/x',
    } as const;
    const checked = await checkPairConfig(
      pair({ type: 'local', path: '/srv/sync/a' }, secrets.seal(location)),
      {
        secrets,
        paths,
      },
    );
    expect(checked).toEqual({
      problem: null,
      locations: { source: { type: 'local', path: '/srv/sync/a' }, destination: location },
    });
  });

  it('names the side whose local path lies outside the allowed roots', async () => {
    const secrets = createSecretBox(undefined);
    const problem = (
      await checkPairConfig(
        pair({ type: 'local', path: '/srv/sync/a' }, { type: 'local', path: '/srv/sync/../etc' }),
        { secrets, paths },
      )
    ).problem;
    expect(problem).toMatch(
      /^the destination path is refused by this worker: "\/srv\/sync\/\.\.\/etc" must not/,
    );
    const outside = (
      await checkPairConfig(
        pair({ type: 'local', path: '/srv/sync/a' }, { type: 'local', path: '/srv/elsewhere' }),
        { secrets, paths },
      )
    ).problem;
    expect(outside).toMatch(/^the destination path is refused by this worker: .* outside the allowed roots/);
  });

  it('reports a credential sealed with another secret key', async () => {
    const sealed = createSecretBox(serverKey).seal({
      type: 'sftp',
      host: 'h',
      port: 22,
      username: 'u',
      password: 'secret',
      path: '/x',
    });
    const problem = (
      await checkPairConfig(pair(sealed, { type: 'local', path: '/srv/sync/b' }), {
        secrets: createSecretBox('another key that is long enough....'),
        paths,
      })
    ).problem;
    expect(problem).toMatch(/^the source location is invalid: /);
  });

  it('reports a location that no longer parses', async () => {
    const problem = (
      await checkPairConfig(pair({ type: 'floppy' }, { type: 'local', path: '/srv/sync/b' }), {
        secrets: createSecretBox(undefined),
        paths,
      })
    ).problem;
    expect(problem).toMatch(/^the source location is invalid/);
  });
});
