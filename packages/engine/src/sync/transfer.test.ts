import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage } from '@syncengine/storage-local';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSyncError } from '../errors.js';
import { copyFile } from './transfer.js';

describe('copyFile between local folders', () => {
  let base: string;
  let from: LocalStorage;
  let to: LocalStorage;

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'syncengine-transfer-'));
    from = new LocalStorage(join(base, 'from'));
    to = new LocalStorage(join(base, 'to'));
    await from.ensureRoot();
    await to.ensureRoot();
  });

  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('copies a small file with its mtime and the same hash on both entries', async () => {
    await writeFile(join(base, 'from', 'a.txt'), 'some bytes');
    const planned = (await from.stat('a.txt'))!;
    const copied = await copyFile(from, 'a.txt', to, 'b/a.txt', { planned, algorithm: 'sha256' });
    expect(await readFile(join(base, 'to', 'b', 'a.txt'), 'utf8')).toBe('some bytes');
    expect(copied.written.mtime).toBe(planned.mtime);
    expect(copied.written.hash).toBe(copied.source.hash);
    expect(copied.source.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a small file that is no longer the planned version and writes nothing', async () => {
    await writeFile(join(base, 'from', 'a.txt'), 'some bytes');
    const planned = { ...(await from.stat('a.txt'))!, mtime: 1_000 };
    const error = await copyFile(from, 'a.txt', to, 'a.txt', { planned, algorithm: 'sha256' }).catch(
      (caught: unknown) => caught,
    );
    expect(isSyncError(error, 'CHANGED_DURING_TRANSFER')).toBe(true);
    expect(await to.stat('a.txt')).toBeNull();
  });

  it('reports a small file gone since the scan as changed', async () => {
    await writeFile(join(base, 'from', 'a.txt'), 'x');
    const planned = (await from.stat('a.txt'))!;
    await rm(join(base, 'from', 'a.txt'));
    const error = await copyFile(from, 'a.txt', to, 'a.txt', { planned, algorithm: 'sha256' }).catch(
      (caught: unknown) => caught,
    );
    expect(isSyncError(error, 'CHANGED_DURING_TRANSFER')).toBe(true);
  });
});
