import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage } from '@syncengine/storage-local';
import { afterAll, describe, expect, it } from 'vitest';
import { FileStateStore } from '../state/file-state-store.js';
import { sync } from './sync.js';

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

async function contents(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(dir)) {
    if (name.startsWith('.sync')) continue;
    out.push(await readFile(join(dir, name), 'utf8'));
  }
  return out.sort();
}

describe('both sides edited to different contents of one size (local folders)', () => {
  it.each([
    ['on a first sync, equal mtimes', true, 0],
    ['on a first sync, mtimes 1 s apart', true, 1_000],
    ['within 2 s of the last sync, equal mtimes', false, 0],
    ['within 2 s of the last sync, mtimes 1 s apart', false, 1_000],
  ])('keeps both contents on both sides: %s', async (_, isFirstSync, apart) => {
    const root = await mkdtemp(join(tmpdir(), 'syncengine-same-size-'));
    roots.push(root);
    const src = join(root, 'src');
    const dst = join(root, 'dst');
    await mkdir(src);
    await mkdir(dst);
    const pair = {
      source: new LocalStorage(src),
      destination: new LocalStorage(dst),
      state: new FileStateStore(join(root, 'state'), { fsync: false }),
    };
    const at = new Date(Date.now() - 60_000);
    if (!isFirstSync) {
      await writeFile(join(src, 'f.txt'), 'o'.repeat(2_613));
      await utimes(join(src, 'f.txt'), at, at);
      expect((await sync(pair)).status).toBe('completed');
    }
    await writeFile(join(src, 'f.txt'), 's'.repeat(2_613));
    await writeFile(join(dst, 'f.txt'), 'd'.repeat(2_613));
    // Within 2 s of what was synced, never exactly it (that is the next test's case).
    const edited = new Date(at.getTime() + 500);
    await utimes(join(src, 'f.txt'), edited, edited);
    await utimes(join(dst, 'f.txt'), edited, new Date(edited.getTime() + apart));

    const result = await sync(pair);

    expect(result.errors).toEqual([]);
    expect(await contents(src)).toEqual(await contents(dst));
    expect(await contents(src)).toEqual(expect.arrayContaining(['s'.repeat(2_613), 'd'.repeat(2_613)]));
  });
});

describe('HASH_ONLY (local folders)', () => {
  it('finds an in-place edit that kept the size, the mtime and the inode, on every run', async () => {
    const root = await mkdtemp(join(tmpdir(), 'syncengine-hash-only-'));
    roots.push(root);
    const src = join(root, 'src');
    const dst = join(root, 'dst');
    await mkdir(src);
    await mkdir(dst);
    const pair = {
      source: new LocalStorage(src),
      destination: new LocalStorage(dst),
      state: new FileStateStore(join(root, 'state'), { fsync: false }),
      config: { comparison: 'HASH_ONLY' as const },
    };
    const at = new Date(Date.now() - 60_000);
    await writeFile(join(src, 'f.txt'), 'o'.repeat(100));
    await utimes(join(src, 'f.txt'), at, at);
    expect((await sync(pair)).status).toBe('completed');
    // Twice: the unchanged-pair check and the record reuse of the second run must not skip it.
    expect((await sync(pair)).plan.actions).toEqual([]);

    // Rewritten in place (same inode), the mtime set back.
    await writeFile(join(src, 'f.txt'), 'n'.repeat(100));
    await utimes(join(src, 'f.txt'), at, at);
    const result = await sync(pair);

    expect(result.plan.actions.map((action) => action.type)).toEqual(['UPLOAD_UPDATE']);
    expect(await readFile(join(dst, 'f.txt'), 'utf8')).toBe('n'.repeat(100));
  });
});
