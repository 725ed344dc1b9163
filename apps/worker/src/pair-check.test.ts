import type { PairRecord } from '@syncengine/db';
import { createSecretBox } from '@syncengine/runs';
import { describe, expect, it } from 'vitest';
import { findPairConfigProblem } from './pair-check.js';

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
  schedule: null,
  enabled: true,
  createdAt: new Date(0).toISOString(),
  updatedAt: new Date(0).toISOString(),
  lastRun: null,
});

describe('findPairConfigProblem', () => {
  const allowedRoots = ['/srv/sync'];

  it('accepts local paths under the allowed roots and credentials it can decrypt', () => {
    const secrets = createSecretBox(serverKey);
    const sftp = secrets.seal({
      type: 'sftp',
      host: 'h',
      port: 22,
      username: 'u',
      password: 'secret',
      path: '/x',
    });
    expect(
      findPairConfigProblem(pair({ type: 'local', path: '/srv/sync/a' }, sftp), { secrets, allowedRoots }),
    ).toBe(null);
  });

  it('names the side whose local path lies outside the allowed roots', () => {
    const secrets = createSecretBox(undefined);
    const problem = findPairConfigProblem(
      pair({ type: 'local', path: '/srv/sync/a' }, { type: 'local', path: '/srv/sync/../etc' }),
      { secrets, allowedRoots },
    );
    expect(problem).toMatch(
      /^the destination path "\/srv\/sync\/\.\.\/etc" is outside this worker's allowed roots/,
    );
  });

  it('reports a credential sealed with another secret key', () => {
    const sealed = createSecretBox(serverKey).seal({
      type: 'sftp',
      host: 'h',
      port: 22,
      username: 'u',
      password: 'secret',
      path: '/x',
    });
    const problem = findPairConfigProblem(pair(sealed, { type: 'local', path: '/srv/sync/b' }), {
      secrets: createSecretBox('another key that is long enough....'),
      allowedRoots,
    });
    expect(problem).toMatch(/^the source location is invalid: /);
  });

  it('reports a location that no longer parses', () => {
    const problem = findPairConfigProblem(pair({ type: 'floppy' }, { type: 'local', path: '/srv/sync/b' }), {
      secrets: createSecretBox(undefined),
      allowedRoots,
    });
    expect(problem).toMatch(/^the source location is invalid/);
  });
});
