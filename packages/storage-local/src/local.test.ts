import { execFileSync } from 'node:child_process';
import {
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  type Entry,
  hashBytes,
  isSyncError,
  type ListingDigest,
  type ListOptions,
  MemoryStorage,
  type SyncError,
} from '@syncengine/engine';
import { describeStorageContract, listAll, readAll, writeText } from '@syncengine/engine/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeFileName, diskName, LocalStorage, mapFsError } from './local.js';

describeStorageContract('LocalStorage', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'syncengine-local-'));
  return { storage: new LocalStorage(dir), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describeStorageContract('LocalStorage (listing on the calling thread)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'syncengine-local-'));
  return {
    storage: new LocalStorage(dir, { statMode: 'batched-sync', statConcurrency: 5 }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describeStorageContract('LocalStorage (async stats, no fsync)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'syncengine-local-'));
  return {
    storage: new LocalStorage(dir, { statMode: 'async', statConcurrency: 7, fsync: false }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

/** Every entry of a listing with `options`. */
async function listAllWith(storage: LocalStorage, options: ListOptions): Promise<Entry[]> {
  const entries: Entry[] = [];
  for await (const entry of storage.list(options)) entries.push(entry);
  return entries;
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return isSyncError(error) ? error.code : `not a SyncError: ${String(error)}`;
  }
  return undefined;
}

describe('LocalStorage on a real folder', () => {
  let base: string;
  let root: string;
  let outside: string;

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'syncengine-local-'));
    root = join(base, 'root');
    outside = join(base, 'outside');
    await mkdir(root);
    await mkdir(outside);
    await writeFile(join(outside, 'secret.txt'), 'secret');
  });

  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('skips symbolic links when listing and reports each through onSkip', async () => {
    await writeFile(join(root, 'real.txt'), 'real');
    await symlink(join(outside, 'secret.txt'), join(root, 'link.txt'));
    await symlink(outside, join(root, 'linked-dir'));
    const skipped: [string, string][] = [];
    const storage = new LocalStorage(root, { onSkip: (path, reason) => skipped.push([path, reason]) });
    expect((await listAll(storage)).map((entry) => entry.path)).toEqual(['real.txt']);
    expect(skipped.sort()).toEqual([
      ['link.txt', 'symlink'],
      ['linked-dir', 'symlink'],
    ]);
  });

  it('reports skipped entries to the onSkip of the listing as well as the constructor', async () => {
    await writeFile(join(root, 'real.txt'), 'real');
    await symlink(join(outside, 'secret.txt'), join(root, 'link.txt'));
    const fromConstructor: string[] = [];
    const fromListing: string[] = [];
    const storage = new LocalStorage(root, {
      onSkip: (path, reason) => fromConstructor.push(`${path}:${reason}`),
    });
    const paths: string[] = [];
    for await (const entry of storage.list({
      onSkip: (path, reason) => fromListing.push(`${path}:${reason}`),
    })) {
      paths.push(entry.path);
    }
    expect(paths).toEqual(['real.txt']);
    expect(fromListing).toEqual(['link.txt:symlink']);
    expect(fromConstructor).toEqual(['link.txt:symlink']);
  });

  it('writes into a folder again after it was removed behind its back', async () => {
    const storage = new LocalStorage(root);
    await writeText(storage, 'sub/deeper/a.txt', 'a');
    await rm(join(root, 'sub'), { recursive: true });
    await writeText(storage, 'sub/deeper/b.txt', 'b');
    await storage.flush();
    expect(await readFile(join(root, 'sub/deeper/b.txt'), 'utf8')).toBe('b');
  });

  it('flushes files that were moved or deleted since they were written without failing', async () => {
    const storage = new LocalStorage(root);
    await writeText(storage, 'a.txt', 'a');
    await writeText(storage, 'dir/b.txt', 'b');
    await storage.rename('a.txt', 'moved/a.txt');
    await storage.delete('dir/b.txt');
    await storage.delete('dir');
    await expect(storage.flush()).resolves.toBeUndefined();
    expect(await readdir(root)).toEqual(['moved']);
  });

  it('checks folders again on each listing: a folder replaced by an outside symlink is refused', async () => {
    const storage = new LocalStorage(root);
    await writeText(storage, 'sub/a.txt', 'a');
    await listAll(storage);
    await rm(join(root, 'sub'), { recursive: true });
    await symlink(outside, join(root, 'sub'));
    await listAll(storage);
    await expect(codeOf(writeText(storage, 'sub/b.txt', 'b'))).resolves.toBe('INVALID_PATH');
    expect(await readdir(outside)).toEqual(['secret.txt']);
  });

  it('lists, reads and writes names that are not valid UTF-8 byte for byte', async () => {
    const raw = Buffer.concat([Buffer.from('file_'), Buffer.from([0x81, 0xfe]), Buffer.from('_é.txt')]);
    const rawDir = Buffer.concat([Buffer.from('dir_'), Buffer.from([0xff])]);
    const rootBytes = Buffer.from(root);
    await mkdir(Buffer.concat([rootBytes, Buffer.from('/'), rawDir]));
    await writeFile(Buffer.concat([rootBytes, Buffer.from('/'), rawDir, Buffer.from('/'), raw]), 'raw');
    const storage = new LocalStorage(root);
    const paths = (await listAll(storage)).map((entry) => entry.path);
    expect(paths).toEqual(['dir_\udcff', 'dir_\udcff/file_\udc81\udcfe_é.txt']);
    expect((await readAll(storage, paths[1]!)).toString()).toBe('raw');

    const copy = join(base, 'copy');
    await mkdir(copy);
    const target = new LocalStorage(copy);
    await writeText(target, paths[1]!, 'copied');
    await target.flush();
    const onDisk = await readdir(Buffer.from(copy), { encoding: 'buffer' });
    expect(onDisk).toEqual([rawDir]);
    expect(
      await readdir(Buffer.concat([Buffer.from(copy), Buffer.from('/'), rawDir]), { encoding: 'buffer' }),
    ).toEqual([raw]);
    await target.rename(paths[1]!, 'plain.txt');
    await target.delete(paths[0]!);
    expect(await readdir(copy)).toEqual(['plain.txt']);
  });

  it('decodes valid UTF-8, including a real U+FFFD, unchanged', () => {
    expect(decodeFileName(Buffer.from('naïve \uFFFD 😀.txt'))).toBe('naïve \uFFFD 😀.txt');
    expect(decodeFileName(Buffer.from([0x61, 0xc3, 0x28]))).toBe('a\udcc3(');
    expect(diskName('a\udcc3(')).toEqual(Buffer.from([0x61, 0xc3, 0x28]));
    expect(diskName('plain/😀')).toBe('plain/😀');
  });

  it('skips FIFOs and other special files', async () => {
    execFileSync('mkfifo', [join(root, 'pipe')]);
    const skipped: string[] = [];
    const storage = new LocalStorage(root, { onSkip: (path, reason) => skipped.push(`${path}:${reason}`) });
    expect(await listAll(storage)).toEqual([]);
    expect(skipped).toEqual(['pipe:special-file']);
    expect(await storage.stat('pipe')).toBeNull();
    // Opening a FIFO without a writer must not block: the read is refused at once.
    await expect(codeOf(storage.read('pipe'))).resolves.toBe('CONFLICT');
  });

  it('refuses a small write whose byte count differs from the expected size, leaving nothing', async () => {
    const storage = new LocalStorage(root);
    const write = storage.write('short.txt', Readable.from([Buffer.from('abc')]), { size: 5 });
    await expect(codeOf(write)).resolves.toBe('CHANGED_DURING_TRANSFER');
    const long = storage.write('long.txt', Readable.from([Buffer.from('abcdef')]), { size: 5 });
    await expect(codeOf(long)).resolves.toBe('CHANGED_DURING_TRANSFER');
    await storage.flush();
    expect(await readdir(root)).toEqual([]);
  });

  it('never reads, writes or deletes through a symlinked folder that points outside the root', async () => {
    await symlink(outside, join(root, 'escape'));
    const storage = new LocalStorage(root);
    expect(await codeOf(storage.read('escape/secret.txt'))).toBe('INVALID_PATH');
    expect(await codeOf(writeText(storage, 'escape/new.txt', 'x'))).toBe('INVALID_PATH');
    expect(await codeOf(writeText(storage, 'escape/deeper/new.txt', 'x'))).toBe('INVALID_PATH');
    expect(await codeOf(storage.delete('escape/secret.txt'))).toBe('INVALID_PATH');
    expect(await codeOf(storage.mkdir('escape/sub'))).toBe('INVALID_PATH');
    expect(await codeOf(storage.rename('escape/secret.txt', 'stolen.txt'))).toBe('INVALID_PATH');
    expect(await readdir(outside)).toEqual(['secret.txt']);
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('secret');
  });

  it('neither reads through nor overwrites a symlink at a file path', async () => {
    await symlink(join(outside, 'secret.txt'), join(root, 'link.txt'));
    const storage = new LocalStorage(root);
    expect(await storage.stat('link.txt')).toBeNull();
    expect(await codeOf(storage.read('link.txt'))).toBe('INVALID_PATH');
    expect(await codeOf(writeText(storage, 'link.txt', 'overwrite'))).toBe('CONFLICT');
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('secret');
  });

  it('reads a small file whole with its entry, and declines one larger than asked for', async () => {
    await writeFile(join(root, 'small.txt'), 'hello');
    await symlink(join(outside, 'secret.txt'), join(root, 'link.txt'));
    await mkdir(join(root, 'folder'));
    const storage = new LocalStorage(root);
    const small = await storage.readSmall('small.txt', 1024);
    expect(Buffer.from(small!.data).toString()).toBe('hello');
    expect(small!.entry).toEqual(await storage.stat('small.txt'));
    expect(await storage.readSmall('small.txt', 4)).toBeNull();
    expect(await codeOf(storage.readSmall('missing.txt', 1024))).toBe('NOT_FOUND');
    expect(await codeOf(storage.readSmall('link.txt', 1024))).toBe('INVALID_PATH');
    expect(await codeOf(storage.readSmall('folder', 1024))).toBe('CONFLICT');
  });

  it('reaches a file stored under an NFD name through its NFC path', async () => {
    await mkdir(join(root, 'Cafe\u0301'));
    await writeFile(join(root, 'Cafe\u0301', 'Me\u0301nu.txt'), 'menu');
    const storage = new LocalStorage(root);
    const listed = (await listAll(storage)).map((entry) => entry.path);
    expect(listed).toEqual(['Caf\u00e9', 'Caf\u00e9/M\u00e9nu.txt']);
    expect((await readAll(storage, 'Caf\u00e9/M\u00e9nu.txt')).toString()).toBe('menu');
    await writeText(storage, 'Caf\u00e9/M\u00e9nu.txt', 'new menu');
    await writeText(storage, 'Caf\u00e9/new.txt', 'new');
    expect(await readdir(join(root, 'Cafe\u0301'))).toEqual(['Me\u0301nu.txt', 'new.txt']);
    expect(await readFile(join(root, 'Cafe\u0301', 'Me\u0301nu.txt'), 'utf8')).toBe('new menu');
    await storage.rename('Caf\u00e9', 'Bistro');
    expect((await readAll(storage, 'Bistro/M\u00e9nu.txt')).toString()).toBe('new menu');
  });

  it('lists one of two names that normalise to the same path and reports the other', async () => {
    await writeFile(join(root, 'caf\u00e9.txt'), 'nfc');
    await writeFile(join(root, 'cafe\u0301.txt'), 'nfd');
    const skipped: string[] = [];
    const storage = new LocalStorage(root, { onSkip: (path, reason) => skipped.push(`${path}:${reason}`) });
    expect((await listAll(storage)).map((entry) => entry.path)).toEqual(['caf\u00e9.txt']);
    expect((await readAll(storage, 'caf\u00e9.txt')).toString()).toBe('nfc');
    expect(skipped).toEqual(['cafe\u0301.txt:normalization-collision']);
  });

  it('leaves no temporary file on disk after a failed write', async () => {
    const storage = new LocalStorage(root);
    const failing = new Readable({
      read() {
        this.destroy(new Error('boom'));
      },
    });
    await expect(storage.write('sub/file.txt', failing)).rejects.toThrow('boom');
    expect(await readdir(join(root, 'sub'))).toEqual([]);
  });

  it('sets the exact millisecond mtime on disk and reports inode ids', async () => {
    const storage = new LocalStorage(root);
    const mtime = Date.UTC(2020, 1, 29, 12, 0, 0, 999);
    const entry = await writeText(storage, 'f.txt', 'x', mtime);
    const onDisk = await stat(join(root, 'f.txt'));
    expect(Math.round(onDisk.mtimeMs)).toBe(mtime);
    expect(entry.mtime).toBe(mtime);
    expect(entry.id).toBe(String(onDisk.ino));
  });

  it('hands out the known record itself for an unchanged file, and a fresh entry otherwise', async () => {
    await writeFile(join(root, 'same.txt'), 'same');
    await mkdir(join(root, 'dir'));
    await writeFile(join(root, 'dir', 'edited.txt'), 'before');
    await writeFile(join(root, 'replaced.txt'), 'twin');
    const storage = new LocalStorage(root);
    const known = new Map(
      (await listAll(storage)).map((entry) => [
        entry.path,
        entry.isDir ? entry : { ...entry, hash: `hash of ${entry.path}`, hashAlgorithm: 'xxh3-128' },
      ]),
    );
    const replaced = known.get('replaced.txt')!;
    await writeFile(join(root, 'dir', 'edited.txt'), 'after, and longer');
    // Same size and mtime, another inode: not the recorded file.
    await writeFile(join(root, 'twin.tmp'), 'twin');
    await utimes(join(root, 'twin.tmp'), replaced.mtime / 1000, replaced.mtime / 1000);
    await rename(join(root, 'twin.tmp'), join(root, 'replaced.txt'));

    const listed = new Map<string, Entry>();
    // A promise, as the engine passes it while the state still loads.
    for await (const entry of storage.list({ known: Promise.resolve(known) })) listed.set(entry.path, entry);

    expect([...listed.keys()].sort()).toEqual(['dir', 'dir/edited.txt', 'replaced.txt', 'same.txt']);
    expect(listed.get('same.txt')).toBe(known.get('same.txt'));
    const edited = listed.get('dir/edited.txt')!;
    expect(edited).not.toBe(known.get('dir/edited.txt'));
    expect([edited.size, edited.hash]).toEqual([17, undefined]);
    const twin = listed.get('replaced.txt')!;
    expect([twin.size, twin.mtime, twin.hash]).toEqual([replaced.size, replaced.mtime, undefined]);
    expect(twin.id).not.toBe(replaced.id);
    // Folders are always listed afresh.
    expect(listed.get('dir')).not.toBe(known.get('dir'));
  });

  it('reports ctimes, and a write returns the entry a listing then gives, in every listing mode', async () => {
    const storage = new LocalStorage(root);
    const big = Buffer.alloc(600_000, 7);
    const written = [
      await writeText(storage, 'small.txt', 'small', Date.UTC(2020, 0, 1)),
      await writeText(storage, 'dir/small-new.txt', 'new', Date.UTC(2020, 0, 2)),
      await storage.write('big.bin', Readable.from([big]), { size: big.length, mtime: Date.UTC(2020, 0, 3) }),
      await storage.write('dir/big-new.bin', Readable.from([big]), {
        size: big.length,
        mtime: Date.UTC(2020, 0, 4),
        ifAbsent: true,
      }),
      // Over an existing file: a rename into place.
      await writeText(storage, 'small.txt', 'again', Date.UTC(2020, 0, 5)),
    ];
    await storage.flush();
    // The first small.txt is replaced by the last.
    written.shift();
    for (const entry of written) {
      const onDisk = await stat(join(root, entry.path));
      expect(entry.ctime).toBe(Math.round(onDisk.ctimeMs));
      expect(await storage.stat(entry.path)).toEqual(entry);
    }
    for (const statMode of ['worker', 'batched-sync', 'async'] as const) {
      const listed = new Map(
        (await listAll(new LocalStorage(root, { statMode }))).map((entry) => [entry.path, entry]),
      );
      for (const entry of written) expect(listed.get(entry.path)).toEqual(entry);
      // Folders carry none: theirs moves with their contents.
      expect(listed.get('dir')?.ctime).toBeUndefined();
    }
  });

  it('finds an in-place edit that kept the size, the mtime and the inode: in the digest, and not by the record', async () => {
    await writeFile(join(root, 'f.txt'), 'before');
    const at = new Date(Date.UTC(2020, 0, 1));
    await utimes(join(root, 'f.txt'), at, at);
    const storage = new LocalStorage(root);
    let digest: ListingDigest | undefined;
    const [recorded] = await listAllWith(storage, { onDigest: (listed) => (digest = listed) });
    const known = new Map([['f.txt', { ...recorded!, hash: 'recorded', hashAlgorithm: 'xxh3-128' }]]);
    expect(await storage.isUnchangedSince(digest!)).toBe(true);
    expect((await listAllWith(storage, { known }))[0]).toBe(known.get('f.txt'));

    await new Promise((resolve) => setTimeout(resolve, 30));
    await writeFile(join(root, 'f.txt'), 'after!');
    await utimes(join(root, 'f.txt'), at, at);

    expect(await storage.isUnchangedSince(digest!)).toBe(false);
    const [edited] = await listAllWith(storage, { known });
    expect(edited).not.toBe(known.get('f.txt'));
    expect([edited!.size, edited!.mtime, edited!.id, edited!.hash]).toEqual([
      recorded!.size,
      recorded!.mtime,
      recorded!.id,
      undefined,
    ]);
    expect(edited!.ctime).toBeGreaterThan(recorded!.ctime!);
    // A record without a ctime (kept before states had them) vouches for nothing.
    const { ctime: _, ...older } = known.get('f.txt')!;
    expect((await listAllWith(storage, { known: new Map([['f.txt', older]]) }))[0]).not.toBe(older);
  });

  it('lists the same tree in every listing mode, ignored folders left out', async () => {
    for (const dir of ['a/b/c', 'a/skip/deep', 'z']) await mkdir(join(root, dir), { recursive: true });
    for (const file of [
      'a/1.txt',
      'a/b/2.txt',
      'a/b/c/3.txt',
      'a/skip/4.txt',
      'a/skip/deep/5.txt',
      'z/6.txt',
    ]) {
      await writeFile(join(root, file), file);
    }
    await writeFile(join(root, 'cafe\u0301.txt'), 'nfd');
    await symlink(join(root, 'a'), join(root, 'z', 'link'));
    const include = (path: string) => path !== 'a/skip';
    const listings = await Promise.all(
      (['worker', 'batched-sync', 'async'] as const).map(async (statMode) =>
        (await listAll(new LocalStorage(root, { statMode }), include)).map(
          (entry) => `${entry.path} ${entry.isDir ? 'dir' : entry.size}`,
        ),
      ),
    );
    expect(listings[0]).toEqual([
      'a dir',
      'caf\u00e9.txt 3',
      'z dir',
      'a/1.txt 7',
      'a/b dir',
      'a/b/2.txt 9',
      'a/b/c dir',
      'a/b/c/3.txt 11',
      'z/6.txt 7',
    ]);
    expect(listings[1]).toEqual(listings[0]);
    expect(listings[2]).toEqual(listings[0]);
  });

  it('keeps its folder workers to itself: closing one storage stops none of another', async () => {
    for (let index = 0; index < 40; index++) {
      await mkdir(join(root, `d${index}`));
      await writeFile(join(root, `d${index}`, 'f.txt'), String(index));
    }
    const paths = (await listAll(new LocalStorage(root))).map((entry) => entry.path);
    expect(paths).toHaveLength(80);
    const first = new LocalStorage(root);
    const second = new LocalStorage(root);
    // A listing of the second storage half way, when the first one closes.
    const chunks = second.listChunks()[Symbol.asyncIterator]();
    const listed: string[] = [];
    const next = await chunks.next();
    if (!next.done) listed.push(...next.value.map((entry) => entry.path));
    await first.close();
    for (let chunk = await chunks.next(); !chunk.done; chunk = await chunks.next()) {
      listed.push(...chunk.value.map((entry) => entry.path));
    }
    expect(listed).toEqual(paths);
    // Closed, it starts its workers again when used again.
    expect((await listAll(first)).map((entry) => entry.path)).toEqual(paths);
    await Promise.all([first.close(), second.close()]);
    expect((await listAll(second)).map((entry) => entry.path)).toEqual(paths);
    await second.close();
  });

  it('fails to list a missing root with NOT_FOUND instead of reporting an empty tree', async () => {
    const storage = new LocalStorage(join(base, 'not-mounted'));
    expect(await codeOf(listAll(storage))).toBe('NOT_FOUND');
    expect(await codeOf(writeText(storage, 'a.txt', 'a'))).toBe('NOT_FOUND');
    const creating = new LocalStorage(join(base, 'created'), { createRoot: true });
    await writeText(creating, 'a.txt', 'a');
    expect(await readFile(join(base, 'created', 'a.txt'), 'utf8')).toBe('a');
  });

  it('detects case sensitivity from the root name, and takes an override', async () => {
    const named = join(base, 'MixedCase');
    await mkdir(named);
    expect(new LocalStorage(named).capabilities.caseSensitive).toBe(true);
    expect(new LocalStorage(named, { caseSensitive: false }).capabilities.caseSensitive).toBe(false);
  });

  it('maps file system error codes to sync error codes', () => {
    const fsError = (code: string) => Object.assign(new Error(code), { code });
    const codes = ['ENOENT', 'EACCES', 'EPERM', 'EEXIST', 'ENOTEMPTY', 'EAGAIN', 'EBUSY', 'EMFILE'].map(
      (code) => (mapFsError(fsError(code), 'p') as SyncError).code,
    );
    expect(codes).toEqual([
      'NOT_FOUND',
      'PERMISSION',
      'PERMISSION',
      'CONFLICT',
      'CONFLICT',
      'TRANSIENT',
      'TRANSIENT',
      'TRANSIENT',
    ]);
    const plain = new Error('not from fs');
    expect(mapFsError(plain, 'p')).toBe(plain);
  });
});

describe('LocalStorage copying small files in batches', () => {
  let base: string;
  let from: LocalStorage;
  let to: LocalStorage;

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'syncengine-batch-'));
    await mkdir(join(base, 'src', 'a', 'b'), { recursive: true });
    await mkdir(join(base, 'dst'));
    from = new LocalStorage(join(base, 'src'));
    to = new LocalStorage(join(base, 'dst'));
  });

  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  /** The source's entries by path, as a listing gives them. */
  async function planned(): Promise<Map<string, Entry>> {
    return new Map((await listAll(from)).map((entry) => [entry.path, entry]));
  }

  const copy = (entries: Map<string, Entry>, paths: string[]) =>
    to.copyInBatch(
      from,
      paths.map((path) => ({ from: path, to: path, planned: entries.get(path)! })),
      { algorithm: 'xxh3-64' },
    );

  it('copies files whole with their mtimes, hashes and inodes, making folders, leaving no temporary names', async () => {
    const files = { 'top.txt': 'top', 'a/one.txt': 'one', 'a/b/two.txt': 'two two', 'a/b/empty.txt': '' };
    for (const [path, text] of Object.entries(files)) {
      await writeFile(join(base, 'src', path), text);
      await utimes(join(base, 'src', path), 1_700_000_000.123, 1_700_000_000.123);
    }
    const entries = await planned();
    const results = await copy(entries, Object.keys(files));
    expect(results).toHaveLength(4);
    for (const [index, path] of Object.keys(files).entries()) {
      const result = results![index];
      if (!result || 'error' in result) throw new Error(`${path} was not copied: ${JSON.stringify(result)}`);
      expect(await readFile(join(base, 'dst', path), 'utf8')).toBe(files[path as keyof typeof files]);
      const written = await stat(join(base, 'dst', path));
      expect(result.written).toMatchObject({
        path,
        size: written.size,
        mtime: 1_700_000_000_123,
        id: String(written.ino),
        hash: hashBytes(files[path as keyof typeof files]),
        hashAlgorithm: 'xxh3-64',
      });
      expect(result.source).toMatchObject({ path, id: entries.get(path)!.id, hash: result.written.hash });
      // As the file is in place, linked and its temporary name gone: what a listing finds.
      expect(result.written.ctime).toBe(Math.round(written.ctimeMs));
      expect(result.source.ctime).toBe(entries.get(path)!.ctime);
    }
    await to.flush();
    const left = await readdir(join(base, 'dst'), { recursive: true });
    expect(left.filter((name) => name.includes('syncengine-tmp'))).toEqual([]);
  });

  it('refuses a source changed since it was planned and never replaces what appeared at the target', async () => {
    await writeFile(join(base, 'src', 'changed.txt'), 'before');
    await writeFile(join(base, 'src', 'taken.txt'), 'mine');
    await writeFile(join(base, 'src', 'fine.txt'), 'fine');
    const entries = await planned();
    await writeFile(join(base, 'src', 'changed.txt'), 'after, longer');
    await writeFile(join(base, 'dst', 'taken.txt'), 'theirs');
    const results = await copy(entries, ['changed.txt', 'taken.txt', 'fine.txt']);
    const codes = results!.map((result) =>
      result && 'error' in result ? (result.error as SyncError).code : result ? 'copied' : 'left',
    );
    expect(codes).toEqual(['CHANGED_DURING_TRANSFER', 'CHANGED_DURING_TRANSFER', 'copied']);
    expect(await readFile(join(base, 'dst', 'taken.txt'), 'utf8')).toBe('theirs');
    await expect(stat(join(base, 'dst', 'changed.txt'))).rejects.toThrow();
    expect(await readFile(join(base, 'dst', 'fine.txt'), 'utf8')).toBe('fine');
  });

  it('leaves a file to the caller when its folder went away, and refuses a source gone since', async () => {
    await writeFile(join(base, 'src', 'a', 'one.txt'), 'one');
    await writeFile(join(base, 'src', 'gone.txt'), 'gone');
    const entries = await planned();
    await to.mkdir('a');
    await rm(join(base, 'dst', 'a'), { recursive: true });
    await rm(join(base, 'src', 'gone.txt'));
    const results = await copy(entries, ['a/one.txt', 'gone.txt']);
    expect(results![0]).toBeNull();
    expect(results![1] && 'error' in results![1] && (results![1].error as SyncError).code).toBe(
      'CHANGED_DURING_TRANSFER',
    );
    // Written alone, the file gets its folder back.
    await writeText(to, 'a/one.txt', 'one');
    expect(await readFile(join(base, 'dst', 'a', 'one.txt'), 'utf8')).toBe('one');
  });

  it('copies again after it was closed', async () => {
    await writeFile(join(base, 'src', 'before.txt'), 'before');
    expect(await copy(await planned(), ['before.txt'])).toMatchObject([{ written: { path: 'before.txt' } }]);
    await to.close();
    await writeFile(join(base, 'src', 'after.txt'), 'after');
    expect(await copy(await planned(), ['after.txt'])).toMatchObject([{ written: { path: 'after.txt' } }]);
    await to.close();
    expect(await readFile(join(base, 'dst', 'after.txt'), 'utf8')).toBe('after');
  });

  it('resolves a flush only once the flushes started before it have ended', async () => {
    await writeFile(join(base, 'src', 'one.txt'), 'one');
    expect(await copy(await planned(), ['one.txt'])).toMatchObject([{ written: { path: 'one.txt' } }]);
    // The first flush takes the copy's descriptor to sync it; the second, with nothing of its
    // own, must still wait for it: a caller records what was written once its flush resolves.
    const settled: string[] = [];
    const first = to.flush().then(() => settled.push('first'));
    const second = to.flush().then(() => settled.push('second'));
    await Promise.all([first, second]);
    expect(settled).toEqual(['first', 'second']);
  });

  it('declines sources that are not local folders', async () => {
    const memory = new MemoryStorage();
    await writeText(memory, 'x.txt', 'x');
    const entry = (await memory.stat('x.txt'))!;
    expect(
      await to.copyInBatch(memory, [{ from: 'x.txt', to: 'x.txt', planned: entry }], {
        algorithm: 'xxh3-64',
      }),
    ).toBeNull();
  });
});

describe('LocalStorage durability', () => {
  const inMemoryTypes = new Set([0x01021994, 0x858458f6]);
  const typeOf = (path: string) =>
    import('node:fs/promises').then((fs) =>
      fs.statfs(path).then(
        (stats) => stats.type,
        () => null,
      ),
    );

  it('fsyncs on a disk, not on a file system in memory, and never when told not to', async () => {
    const checked: string[] = [];
    for (const parent of [tmpdir(), '/dev/shm']) {
      const type = await typeOf(parent);
      if (type === null) continue;
      const dir = await mkdtemp(join(parent, 'syncengine-durability-'));
      try {
        const storage = new LocalStorage(dir);
        await writeText(storage, 'a.txt', 'a');
        await storage.flush();
        expect(storage.durability).toBe(inMemoryTypes.has(type) ? 'in-memory' : 'fsync');
        expect(new LocalStorage(dir, { fsync: false }).durability).toBe('off');
        checked.push(storage.durability);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    expect(checked.length).toBeGreaterThan(0);
  });
});
