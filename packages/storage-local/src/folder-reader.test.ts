import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderPool } from './folder-pool.js';
import { CHILD_NUMBERS } from './folder-protocol.js';
import { ChildType, createFolderReader, type FolderReadMode, type RawFolder } from './folder-reader.js';

const MODES: FolderReadMode[] = ['worker', 'batched-sync', 'async'];

/** A folder's children as `name type size` lines, sorted, for comparing readers. */
function describeFolder(folder: RawFolder): string[] {
  return folder.names
    .map((name, index) => {
      const type = folder.types[index];
      const size = type === ChildType.File ? folder.numbers[index * CHILD_NUMBERS] : '-';
      return `${name} ${type} ${size}`;
    })
    .sort();
}

describe('folder readers', () => {
  let root: string;
  const pool = new FolderPool();

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'syncengine-folders-'));
    // 30 folders of 4 files each, two levels deep, plus a symlink.
    for (let outer = 0; outer < 3; outer++) {
      for (let inner = 0; inner < 10; inner++) {
        const dir = join(root, `o${outer}`, `i${inner}`);
        await mkdir(dir, { recursive: true });
        for (let file = 0; file < 4; file++) await writeFile(join(dir, `f${file}.txt`), 'x'.repeat(file));
      }
    }
    await symlink(join(root, 'o0'), join(root, 'link'));
    // The engine's own folder: never read ahead, but read when asked for.
    await mkdir(join(root, '.syncengine', 'versions'), { recursive: true });
    await writeFile(join(root, '.syncengine', 'versions', 'old.txt'), 'old');
  });

  afterAll(async () => {
    await pool.close();
    await rm(root, { recursive: true, force: true });
  });

  /** Walks the tree depth first through a reader, as `LocalStorage.list()` does. */
  function walk(mode: FolderReadMode, readAhead?: number): Promise<Map<string, string[]>> {
    return walkWith(pool, mode, readAhead);
  }

  async function walkWith(
    folderPool: FolderPool,
    mode: FolderReadMode = 'worker',
    readAhead?: number,
  ): Promise<Map<string, string[]>> {
    const reader = createFolderReader(mode, root, 3, folderPool, readAhead);
    const seen = new Map<string, string[]>();
    try {
      const stack = [root];
      while (stack.length > 0) {
        const dir = stack.pop()!;
        const folder = await reader.read(dir);
        seen.set(dir, describeFolder(folder));
        folder.names.forEach((name, index) => {
          if (folder.types[index] === ChildType.Folder) stack.push(join(dir, name));
        });
      }
    } finally {
      reader.close();
    }
    return seen;
  }

  it('read every folder the same way in every mode: names, types, sizes', async () => {
    const byMode = await Promise.all(MODES.map((mode) => walk(mode)));
    expect(byMode[0]!.size).toBe(1 + 3 + 30 + 2);
    expect(byMode[0]!.get(root)).toEqual(['.syncengine 2 -', 'link 3 -', 'o0 2 -', 'o1 2 -', 'o2 2 -']);
    expect(byMode[0]!.get(join(root, '.syncengine', 'versions'))).toEqual(['old.txt 1 3']);
    expect(byMode[0]!.get(join(root, 'o1', 'i7'))).toEqual([
      'f0.txt 1 0',
      'f1.txt 1 1',
      'f2.txt 1 2',
      'f3.txt 1 3',
    ]);
    expect(byMode[1]).toEqual(byMode[0]);
    expect(byMode[2]).toEqual(byMode[0]);
  });

  it('reports size, mtime, inode and ctime as lstat does', async () => {
    const reader = createFolderReader('worker', root, 3, pool);
    const dir = join(root, 'o2', 'i3');
    const folder = await reader.read(dir);
    reader.close();
    const index = folder.names.indexOf('f3.txt');
    const stats = await stat(join(dir, 'f3.txt'));
    expect([...folder.numbers.subarray(index * CHILD_NUMBERS, (index + 1) * CHILD_NUMBERS)]).toEqual([
      stats.size,
      stats.mtimeMs,
      stats.ino,
      stats.ctimeMs,
    ]);
  });

  it('walks a tree larger than its read-ahead completely (the walk reports what it took)', async () => {
    // 5 entries of read-ahead: the worker must wait for the walk again and again.
    expect(await walk('worker', 5)).toEqual(await walk('batched-sync'));
  });

  it('reads a skipped folder only when asked, and still reads the rest', async () => {
    const reader = createFolderReader('worker', root, 3, pool);
    try {
      await reader.read(root);
      reader.skip(join(root, 'o1'));
      const o2 = await reader.read(join(root, 'o2'));
      expect(o2.names.sort()).toEqual(Array.from({ length: 10 }, (_, index) => `i${index}`).sort());
      // Asked for after all, it is read (a skip only stops reading ahead).
      const skipped = await reader.read(join(root, 'o1', 'i4'));
      expect(skipped.names.sort()).toEqual(['f0.txt', 'f1.txt', 'f2.txt', 'f3.txt']);
    } finally {
      reader.close();
    }
  });

  it.each(MODES)('rejects with the file system error of a missing folder (%s)', async (mode) => {
    const reader = createFolderReader(mode, root, 3, pool);
    await expect(reader.read(join(root, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
    reader.close();
  });

  it("hands a closed pool's idle worker to the next pool, which lists with it", async () => {
    const first = new FolderPool({ start: true });
    const listed = await walkWith(first);
    const thread = first.forListing()!.threadId;
    await first.close();
    const next = new FolderPool();
    try {
      expect(next.forListing()!.threadId).toBe(thread);
      expect(await walkWith(next)).toEqual(listed);
    } finally {
      await next.close();
    }
  });

  it('lets the process exit with the idle workers of closed pools kept', () => {
    const script = `
      import { FolderPool } from ${JSON.stringify(new URL('./folder-pool.ts', import.meta.url).pathname)};
      import { createFolderReader } from ${JSON.stringify(new URL('./folder-reader.ts', import.meta.url).pathname)};
      const pool = new FolderPool();
      const reader = createFolderReader('worker', ${JSON.stringify(root)}, 3, pool);
      const folder = await reader.read(${JSON.stringify(root)});
      reader.close();
      await pool.close();
      const closedAt = performance.now();
      process.on('exit', () => console.log(folder.names.length, Math.round(performance.now() - closedAt)));
    `;
    const result = spawnSync(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const [names, msAfterClose] = result.stdout.trim().split(' ').map(Number);
    expect(names).toBe(5);
    // Not held until the kept worker's idle stop (2 s): the process ends when its work does.
    expect(msAfterClose).toBeLessThan(1_500);
  });

  it('lets the process exit while a listing is open and idle', () => {
    // A listing abandoned half way (its reader never closed) must not keep Node.js running.
    const script = `
      import { FolderPool } from ${JSON.stringify(new URL('./folder-pool.ts', import.meta.url).pathname)};
      import { createFolderReader } from ${JSON.stringify(new URL('./folder-reader.ts', import.meta.url).pathname)};
      const reader = createFolderReader('worker', ${JSON.stringify(root)}, 3, new FolderPool());
      const folder = await reader.read(${JSON.stringify(root)});
      console.log(folder.names.length);
    `;
    const result = spawnSync(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script],
      {
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
    expect(result.error).toBeUndefined();
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('5');
    expect(result.status).toBe(0);
  });
});
