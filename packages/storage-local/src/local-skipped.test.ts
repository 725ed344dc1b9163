import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { isSyncError } from '@syncengine/engine';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalStorage } from './local.js';

/** A write blocked by an entry the listing skips (and so the plan never saw) says what is in the way. */
describe('LocalStorage, a write where a skipped entry is in the way', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'syncengine-skipped-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const write = (storage: LocalStorage, path: string, ifAbsent: boolean) =>
    storage.write(path, Readable.from([Buffer.from('new')]), { size: 3, ifAbsent });

  it.each([
    ['a symbolic link', true],
    ['a symbolic link', false],
    ['a FIFO', true],
    ['a FIFO', false],
  ] as const)('names %s at the path (ifAbsent: %s)', async (what, ifAbsent) => {
    await writeFile(join(root, 'target.txt'), 'elsewhere');
    if (what === 'a symbolic link') await symlink(join(root, 'target.txt'), join(root, 'x'));
    else execFileSync('mkfifo', [join(root, 'x')]);
    for (const statMode of ['worker', 'async'] as const) {
      const storage = new LocalStorage(root, { statMode });
      const error = await write(storage, 'x', ifAbsent).catch((caught: unknown) => caught);
      expect(isSyncError(error, 'CONFLICT')).toBe(true);
      expect((error as Error).message).toBe(
        `cannot write "x": ${what} is in the way there, which the sync skips and never replaces; move or remove it`,
      );
    }
  });
});
