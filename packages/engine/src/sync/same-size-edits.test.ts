import { utimesSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage } from '@syncengine/storage-local';
import { afterAll, describe, expect, it } from 'vitest';
import { withoutFingerprint } from '../../test/testing/state-stores.js';
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
      config: { comparisonMode: 'HASH_ONLY' as const },
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

/** A local folder that notes the reads of file contents (streams, small reads and hashes), by path. */
class CountingLocal extends LocalStorage {
  reads: string[] = [];
  #note(path: string): void {
    // Looking for ignore files that are not there reads nothing.
    if (!path.endsWith('.syncignore')) this.reads.push(path);
  }
  override read(...args: Parameters<LocalStorage['read']>) {
    this.#note(args[0]);
    return super.read(...args);
  }
  override readSmall(...args: Parameters<LocalStorage['readSmall']>) {
    this.#note(args[0]);
    return super.readSmall(...args);
  }
  override hash(...args: Parameters<LocalStorage['hash']>) {
    this.#note(args[0]);
    return super.hash(...args);
  }
}

async function localPair(prefix: string) {
  const root = await mkdtemp(join(tmpdir(), prefix));
  roots.push(root);
  const src = join(root, 'src');
  const dst = join(root, 'dst');
  await mkdir(src);
  await mkdir(dst);
  const source = new CountingLocal(src);
  const destination = new CountingLocal(dst);
  const state = new FileStateStore(join(root, 'state'), { fsync: false });
  return { root, src, dst, source, destination, state, dirs: { source: src, destination: dst } };
}

/** Past the file system's timestamp granularity, so that the next change gets a later ctime. */
const nextTick = () => new Promise((resolve) => setTimeout(resolve, 30));

/** Rewrites a file in place (same inode, same size) and sets its mtime back to `at`. */
async function rewriteInPlace(file: string, content: string, at: Date): Promise<void> {
  const before = await stat(file);
  await nextTick();
  await writeFile(file, content);
  await utimes(file, at, at);
  const after = await stat(file);
  expect([after.ino, after.size, after.mtimeMs]).toEqual([before.ino, before.size, before.mtimeMs]);
  expect(after.ctimeMs).not.toBe(before.ctimeMs);
}

describe('an in-place edit that keeps the size, the mtime and the inode (local folders, default comparison)', () => {
  it.each([
    ['source', 'the unchanged-pair check', 'UPLOAD_UPDATE'],
    ['source', 'the recorded hashes of a listing', 'UPLOAD_UPDATE'],
    ['destination', 'the unchanged-pair check', 'DOWNLOAD_UPDATE'],
    ['destination', 'the recorded hashes of a listing', 'DOWNLOAD_UPDATE'],
  ] as const)('on the %s is found past %s', async (side, shortCut, action) => {
    const pair = await localPair('syncengine-in-place-');
    const at = new Date(Date.now() - 60_000);
    await writeFile(join(pair.src, 'f.txt'), 'o'.repeat(100));
    await writeFile(join(pair.src, 'other.txt'), 'other');
    await utimes(join(pair.src, 'f.txt'), at, at);
    expect((await sync(pair)).status).toBe('completed');
    expect((await sync(pair)).plan.actions).toEqual([]);

    await rewriteInPlace(join(pair.dirs[side], 'f.txt'), 'n'.repeat(100), at);
    // Another change in the tree: the run lists, and only the record of f.txt could hide the edit.
    if (shortCut === 'the recorded hashes of a listing') await writeFile(join(pair.src, 'new.txt'), 'new');
    const result = await sync(pair);

    expect(result.errors).toEqual([]);
    expect(
      result.plan.actions.filter((planned) => planned.path === 'f.txt').map((planned) => planned.type),
    ).toEqual([action]);
    expect(await readFile(join(pair.src, 'f.txt'), 'utf8')).toBe('n'.repeat(100));
    expect(await readFile(join(pair.dst, 'f.txt'), 'utf8')).toBe('n'.repeat(100));
  });

  it('on both sides, to different contents, keeps both (a conflict within 2 s)', async () => {
    const pair = await localPair('syncengine-in-place-');
    const at = new Date(Date.now() - 60_000);
    await writeFile(join(pair.src, 'f.txt'), 'o'.repeat(100));
    await utimes(join(pair.src, 'f.txt'), at, at);
    expect((await sync(pair)).status).toBe('completed');

    await rewriteInPlace(join(pair.src, 'f.txt'), 's'.repeat(100), at);
    await rewriteInPlace(join(pair.dst, 'f.txt'), 'd'.repeat(100), at);
    const result = await sync(pair);

    expect(result.errors).toEqual([]);
    expect(result.plan.actions.map((planned) => planned.type)).toEqual(['CONFLICT']);
    expect(await contents(pair.src)).toEqual(await contents(pair.dst));
    expect(await contents(pair.src)).toEqual(['d'.repeat(100), 's'.repeat(100)]);
  });
});

/** The saved state as a version without ctimes left it: no ctime in any record, format 1, no fingerprint. */
async function asStateFormat1(stateDir: string): Promise<void> {
  for (const name of await readdir(stateDir)) {
    const file = join(stateDir, name);
    let text = (await readFile(file, 'utf8')).replace(/,"ctime":-?[0-9.e+]+/g, '');
    if (name === 'sync_metadata.json') {
      const metadata = JSON.parse(text) as Record<string, unknown>;
      metadata.format_version = 1;
      delete metadata.tree_fingerprint;
      text = JSON.stringify(metadata);
    }
    await writeFile(file, text);
  }
}

describe('ctimes in the last-known state (local folders)', () => {
  it('records what the engine wrote with the ctime it left: the next runs plan nothing and read nothing', async () => {
    const pair = await localPair('syncengine-ctime-writes-');
    const at = new Date(Date.now() - 60_000);
    const later = new Date(at.getTime() + 10_000);
    await writeFile(join(pair.src, 'small.txt'), 'small');
    await mkdir(join(pair.src, 'deep'));
    await writeFile(join(pair.src, 'deep', 'big.bin'), Buffer.alloc(400_000, 1));
    await writeFile(join(pair.dst, 'down.txt'), 'down');
    // Identical on both sides, mtimes apart: the engine sets one side's mtime.
    await writeFile(join(pair.src, 'same.txt'), 'same');
    await writeFile(join(pair.dst, 'same.txt'), 'same');
    await utimes(join(pair.src, 'same.txt'), at, at);
    await utimes(join(pair.dst, 'same.txt'), later, later);
    const first = await sync(pair);
    expect(first.errors).toEqual([]);
    expect(first.plan.actions.map((action) => `${action.type} ${action.path}`).sort()).toEqual([
      'DOWNLOAD_NEW down.txt',
      'NO_ACTION same.txt',
      'UPLOAD_NEW deep',
      'UPLOAD_NEW deep/big.bin',
      'UPLOAD_NEW small.txt',
    ]);
    // A rename, carried to the other side by a rename there.
    await rename(join(pair.src, 'small.txt'), join(pair.src, 'moved.txt'));
    const second = await sync(pair);
    expect(second.plan.actions.map((action) => `${action.type} ${action.path}`)).toEqual([
      'RENAME_DESTINATION small.txt',
    ]);

    pair.source.reads = [];
    pair.destination.reads = [];
    // With the unchanged-pair check (folder digests), then with listings and the records.
    expect((await sync(pair)).plan.actions).toEqual([]);
    expect((await sync({ ...pair, state: withoutFingerprint(pair.state) })).plan.actions).toEqual([]);
    expect([pair.source.reads, pair.destination.reads]).toEqual([[], []]);
  });

  it('takes a state without ctimes (format 1) for unknown: hashes again, changes nothing, then reads nothing', async () => {
    const pair = await localPair('syncengine-ctime-format-1-');
    await writeFile(join(pair.src, 'a.txt'), 'alpha');
    await writeFile(join(pair.dst, 'b.txt'), 'beta');
    expect((await sync(pair)).errors).toEqual([]);
    await asStateFormat1(join(pair.root, 'state'));
    pair.source.reads = [];
    pair.destination.reads = [];

    const again = await sync(pair);

    expect(again.errors).toEqual([]);
    expect(again.plan.actions).toEqual([]);
    expect(again.pendingConflicts).toEqual([]);
    // Looked at again, as nothing vouched for them: one hash per file and side.
    expect([pair.source.reads.sort(), pair.destination.reads.sort()]).toEqual([
      ['a.txt', 'b.txt'],
      ['a.txt', 'b.txt'],
    ]);
    pair.source.reads = [];
    pair.destination.reads = [];
    expect(await contents(pair.src)).toEqual(['alpha', 'beta']);
    expect(await contents(pair.dst)).toEqual(['alpha', 'beta']);
    expect((await pair.state.loadMetadata())?.formatVersion).toBe(2);
    expect((await pair.state.load())?.source.get('a.txt')?.ctime).toEqual(expect.any(Number));

    expect((await sync({ ...pair, state: withoutFingerprint(pair.state) })).plan.actions).toEqual([]);
    expect([pair.source.reads, pair.destination.reads]).toEqual([[], []]);
  });

  it('finds an in-place edit that set the mtime back against a state without ctimes', async () => {
    const pair = await localPair('syncengine-ctime-format-1-');
    const at = new Date(Date.now() - 60_000);
    await writeFile(join(pair.src, 'f.txt'), 'o'.repeat(100));
    await utimes(join(pair.src, 'f.txt'), at, at);
    expect((await sync(pair)).errors).toEqual([]);
    await asStateFormat1(join(pair.root, 'state'));
    await rewriteInPlace(join(pair.src, 'f.txt'), 'n'.repeat(100), at);

    const result = await sync(pair);

    expect(result.plan.actions.map((action) => action.type)).toEqual(['UPLOAD_UPDATE']);
    expect(await readFile(join(pair.dst, 'f.txt'), 'utf8')).toBe('n'.repeat(100));
  });
});

describe('a file rewritten in place between the scan and its copy (local folders)', () => {
  it('is copied as read, and hashed again by the next run rather than vouched for by its record', async () => {
    const pair = await localPair('syncengine-ctime-copy-');
    const at = new Date(Date.now() - 60_000);
    const file = join(pair.src, 'f.txt');
    await writeFile(file, 'o'.repeat(100));
    await utimes(file, at, at);
    // The rewrite below then gets a later ctime than the scan saw.
    await nextTick();
    const first = await sync({
      ...pair,
      onEvent: (event) => {
        // Planned, nothing copied yet: rewritten in place, the mtime set back.
        if (event.type !== 'sync_start') return;
        writeFileSync(file, 'n'.repeat(100));
        utimesSync(file, at, at);
      },
    });
    expect(first.errors).toEqual([]);
    expect(first.deferred).toEqual([]);
    expect(await readFile(join(pair.dst, 'f.txt'), 'utf8')).toBe('n'.repeat(100));
    expect((await pair.state.load())?.source.get('f.txt')?.ctime).toBeUndefined();

    pair.source.reads = [];
    pair.destination.reads = [];
    expect((await sync(pair)).plan.actions).toEqual([]);
    expect([pair.source.reads, pair.destination.reads]).toEqual([['f.txt'], []]);
    expect((await pair.state.load())?.source.get('f.txt')?.ctime).toEqual(expect.any(Number));
  });
});
