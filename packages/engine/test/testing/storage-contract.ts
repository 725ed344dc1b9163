import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSyncError } from '../../src/errors.js';
import { canHashLocally, hashBytes } from '../../src/hash.js';
import type { Entry } from '../../src/model.js';
import { isSameOrBelow, isTempFilePath, parentPath, tempPathFor } from '../../src/paths.js';
import type { Storage } from '../../src/storage.js';

export interface StorageContractOptions {
  /** Files in the large-tree listing test (default 2 000; slow remotes may pass fewer, but not under 500). */
  largeTreeSize?: number;
  /** Drops the backend's connection(s); the next operation must reconnect (retrying transient errors) and succeed. */
  dropConnection?: (storage: Storage) => Promise<void>;
  /** Per-test timeout in ms (default 30 000). */
  timeoutMs?: number;
}

export interface StorageUnderTest {
  storage: Storage;
  cleanup(): Promise<void>;
}

/** Collects a listing (the storage's own streaming order is kept). */
export async function listAll(storage: Storage, include?: (path: string, isDir: boolean) => boolean) {
  const entries: Entry[] = [];
  for await (const entry of storage.list(include ? { include } : {})) entries.push(entry);
  return entries;
}

/** Reads a whole file. */
export async function readAll(storage: Storage, path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await storage.read(path)) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** Writes a string or bytes as one stream. */
export function writeText(storage: Storage, path: string, content: string | Uint8Array, mtime?: number) {
  const data = Buffer.from(content);
  return storage.write(path, Readable.from([data]), {
    size: data.length,
    ...(mtime === undefined ? {} : { mtime }),
  });
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected SyncError ${code}`).toBeDefined();
  expect(isSyncError(caught) ? caught.code : caught).toBe(code);
}

/** A stream that yields some bytes, then fails like a dropped source. */
function failingStream(): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(Buffer.alloc(70_000, 1));
      } else {
        this.destroy(new Error('source connection lost'));
      }
    },
  });
}

const paths = (entries: Entry[]) => entries.map((entry) => entry.path);

/**
 * The behaviour every `Storage` must show. Call it from a test file of each backend:
 *
 * ```ts
 * describeStorageContract('LocalStorage', async () => {
 *   const dir = await mkdtemp(join(tmpdir(), 'local-'));
 *   return { storage: new LocalStorage(dir), cleanup: () => rm(dir, { recursive: true, force: true }) };
 * });
 * ```
 *
 * Each test gets a fresh, empty storage from `makeStorage` and calls `cleanup` afterwards.
 */
export function describeStorageContract(
  name: string,
  makeStorage: () => Promise<StorageUnderTest>,
  options: StorageContractOptions = {},
): void {
  const timeout = options.timeoutMs ?? 30_000;
  const largeTreeSize = Math.max(500, options.largeTreeSize ?? 2000);

  describe(`Storage contract: ${name}`, () => {
    let subject: StorageUnderTest;
    let storage: Storage;

    beforeEach(async () => {
      subject = await makeStorage();
      storage = subject.storage;
    }, timeout);

    afterEach(async () => {
      await storage.close?.();
      await subject.cleanup();
    }, timeout);

    it('starts empty and reports nothing at a missing path', { timeout }, async () => {
      expect(await listAll(storage)).toEqual([]);
      expect(await storage.stat('missing.txt')).toBeNull();
      await expectCode(storage.read('missing.txt'), 'NOT_FOUND');
    });

    it('writes, stats and reads back a file, creating parent folders', { timeout }, async () => {
      const written = await writeText(storage, 'a/b/c.txt', 'hello world');
      expect(written).toMatchObject({ path: 'a/b/c.txt', size: 11, isDir: false });
      const stat = await storage.stat('a/b/c.txt');
      expect(stat).toMatchObject({ path: 'a/b/c.txt', size: 11, isDir: false });
      expect((await readAll(storage, 'a/b/c.txt')).toString()).toBe('hello world');
    });

    it('round-trips an empty file and a multi-megabyte file made of many chunks', { timeout }, async () => {
      await storage.write('empty.bin', Readable.from([]), { size: 0 });
      expect((await storage.stat('empty.bin'))?.size).toBe(0);
      expect((await readAll(storage, 'empty.bin')).length).toBe(0);

      const big = Buffer.alloc(3 * 1024 * 1024 + 17);
      for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
      const chunks: Buffer[] = [];
      for (let i = 0; i < big.length; i += 100_000) chunks.push(big.subarray(i, i + 100_000));
      async function* iterate() {
        for (const chunk of chunks) yield new Uint8Array(chunk);
      }
      const entry = await storage.write('big.bin', iterate(), { size: big.length });
      expect(entry.size).toBe(big.length);
      expect((await readAll(storage, 'big.bin')).equals(big)).toBe(true);
    });

    it('overwrites an existing file with new content and size', { timeout }, async () => {
      await writeText(storage, 'file.txt', 'the first, longer version');
      await writeText(storage, 'file.txt', 'second');
      expect((await readAll(storage, 'file.txt')).toString()).toBe('second');
      expect((await storage.stat('file.txt'))?.size).toBe(6);
      expect(paths(await listAll(storage))).toEqual(['file.txt']);
    });

    it('leaves neither the target nor a temporary file when the source stream fails', {
      timeout,
    }, async () => {
      await expect(storage.write('new.bin', failingStream())).rejects.toThrow();
      expect(await storage.stat('new.bin')).toBeNull();
      expect(paths(await listAll(storage))).toEqual([]);
    });

    it('keeps the previous content when overwriting fails midway', { timeout }, async () => {
      await writeText(storage, 'keep.txt', 'precious');
      await expect(storage.write('keep.txt', failingStream())).rejects.toThrow();
      expect((await readAll(storage, 'keep.txt')).toString()).toBe('precious');
      expect(paths(await listAll(storage))).toEqual(['keep.txt']);
    });

    it('rejects a write whose byte count differs from the expected size, leaving nothing', {
      timeout,
    }, async () => {
      await expectCode(
        storage.write('short.txt', Readable.from([Buffer.from('12345')]), { size: 10 }),
        'CHANGED_DURING_TRANSFER',
      );
      expect(await storage.stat('short.txt')).toBeNull();
      expect(paths(await listAll(storage))).toEqual([]);
    });

    it(`lists a tree of ${largeTreeSize} files: every path once, folders before their contents`, {
      timeout: timeout * 4,
    }, async () => {
      const expected = new Set<string>();
      const files: string[] = [];
      for (let i = 0; i < largeTreeSize; i++) {
        const path = `d${i % 10}/s${Math.floor(i / 10) % 10}/${i % 3 === 0 ? 'deep/' : ''}f${i}.txt`;
        files.push(path);
      }
      for (let i = 0; i < files.length; i += 50) {
        await Promise.all(files.slice(i, i + 50).map((path) => writeText(storage, path, path)));
      }
      for (const file of files) {
        expected.add(file);
        for (let dir = parentPath(file); dir !== ''; dir = parentPath(dir)) expected.add(dir);
      }
      const entries = await listAll(storage);
      const listed = paths(entries);
      expect(new Set(listed).size).toBe(listed.length);
      const relevant = storage.capabilities.hasDirectories
        ? expected
        : new Set([...expected].filter((path) => files.includes(path) || listed.includes(path)));
      expect(new Set(listed)).toEqual(relevant);
      const position = new Map(listed.map((path, index) => [path, index]));
      for (const entry of entries) {
        const parent = parentPath(entry.path);
        if (parent !== '' && position.has(parent))
          expect(position.get(parent)!).toBeLessThan(position.get(entry.path)!);
        if (!entry.isDir) expect(entry.size).toBe(Buffer.byteLength(entry.path));
      }
    });

    it('does not descend into a folder that include() rejects', { timeout }, async () => {
      await writeText(storage, 'keep/a.txt', 'a');
      await writeText(storage, 'skip/b.txt', 'b');
      await writeText(storage, 'skip/deeper/c.txt', 'c');
      await writeText(storage, 'keep/skip.log', 'log');
      const seen: string[] = [];
      const entries = await listAll(storage, (path, isDir) => {
        seen.push(path);
        return !(isDir && path === 'skip') && !path.endsWith('.log');
      });
      expect(paths(entries).filter((path) => !entries.find((e) => e.path === path)?.isDir)).toEqual([
        'keep/a.txt',
      ]);
      expect(seen.some((path) => isSameOrBelow(path, 'skip') && path !== 'skip')).toBe(false);
    });

    it('asks include() about a temporary file an interrupted write left, which delete() removes', {
      timeout,
    }, async () => {
      await writeText(storage, 'dir/a.txt', 'a');
      // What a run killed while it wrote `dir/b.txt` leaves behind.
      const litter = tempPathFor('dir/b.txt');
      await writeText(storage, litter, 'half of b');
      const asked: string[] = [];
      const entries = await listAll(storage, (path, isDir) => {
        if (!isDir) asked.push(path);
        return !isTempFilePath(path);
      });
      expect(asked).toContain(litter);
      expect(paths(entries)).not.toContain(litter);
      await storage.delete(litter);
      expect(await storage.stat(litter)).toBeNull();
      const left = (await listAll(storage)).filter((entry) => !entry.isDir);
      expect(paths(left)).toEqual(['dir/a.txt']);
    });

    it('keeps unicode and unusual names, reported NFC-normalised', { timeout }, async () => {
      const names = [
        'with space.txt',
        'hash#1.txt',
        'per%20cent.txt',
        'emoji 😀.txt',
        'caf\u00e9.txt',
        'dir é/ünï.txt',
      ];
      for (const name of names) await writeText(storage, name, `content of ${name}`);
      await writeText(storage, 'nfd-cafe\u0301.txt', 'nfd');
      const files = (await listAll(storage)).filter((entry) => !entry.isDir).map((entry) => entry.path);
      expect(files.sort()).toEqual([...names, 'nfd-caf\u00e9.txt'].sort());
      for (const name of names) expect((await readAll(storage, name)).toString()).toBe(`content of ${name}`);
      expect((await readAll(storage, 'nfd-caf\u00e9.txt')).toString()).toBe('nfd');
      expect((await readAll(storage, 'nfd-cafe\u0301.txt')).toString()).toBe('nfd');
    });

    it('creates, lists and deletes empty folders', { timeout }, async (context) => {
      if (!storage.capabilities.hasDirectories) context.skip();
      await storage.mkdir('empty/deeper');
      await storage.mkdir('empty/deeper');
      const entries = await listAll(storage);
      expect(entries.map((entry) => [entry.path, entry.isDir])).toEqual([
        ['empty', true],
        ['empty/deeper', true],
      ]);
      expect((await storage.stat('empty'))?.isDir).toBe(true);
      await expectCode(storage.delete('empty'), 'CONFLICT');
      await storage.delete('empty/deeper');
      await storage.delete('empty');
      expect(await listAll(storage)).toEqual([]);
    });

    it('refuses mkdir over a file and write over a folder with CONFLICT', { timeout }, async (context) => {
      if (!storage.capabilities.hasDirectories) context.skip();
      await writeText(storage, 'file', 'x');
      await expectCode(storage.mkdir('file'), 'CONFLICT');
      await storage.mkdir('folder');
      await writeText(storage, 'folder/inside.txt', 'y');
      await expectCode(writeText(storage, 'folder', 'z'), 'CONFLICT');
      expect((await readAll(storage, 'file')).toString()).toBe('x');
    });

    it('writes with ifAbsent only where nothing is, where it offers exclusive writes', {
      timeout,
    }, async (context) => {
      if (!storage.capabilities.exclusiveWrites) context.skip();
      const ifAbsent = (path: string, data: Buffer) =>
        storage.write(path, Readable.from([data]), { size: data.length, ifAbsent: true });
      await ifAbsent('new.txt', Buffer.from('fresh'));
      await expectCode(ifAbsent('new.txt', Buffer.from('other')), 'CHANGED_DURING_TRANSFER');
      expect((await readAll(storage, 'new.txt')).toString()).toBe('fresh');
      // Beyond the sizes some backends write in one piece.
      const big = Buffer.alloc(300 * 1024, 7);
      await ifAbsent('big.bin', big);
      await expectCode(ifAbsent('big.bin', Buffer.from('x')), 'CHANGED_DURING_TRANSFER');
      expect((await readAll(storage, 'big.bin')).equals(big)).toBe(true);
      if (storage.capabilities.hasDirectories) {
        await storage.mkdir('folder');
        await expectCode(ifAbsent('folder', Buffer.from('x')), 'CHANGED_DURING_TRANSFER');
      }
      // Nothing left behind by the refused writes.
      const expected = storage.capabilities.hasDirectories
        ? ['big.bin', 'folder', 'new.txt']
        : ['big.bin', 'new.txt'];
      expect(paths(await listAll(storage)).sort()).toEqual(expected);
    });

    it('renames a file, creating the target folders', { timeout }, async () => {
      await writeText(storage, 'old.txt', 'moving');
      await storage.rename('old.txt', 'new/place/new.txt');
      expect(await storage.stat('old.txt')).toBeNull();
      expect((await readAll(storage, 'new/place/new.txt')).toString()).toBe('moving');
    });

    it('renames a folder with its contents', { timeout }, async (context) => {
      if (!storage.capabilities.hasDirectories) context.skip();
      await writeText(storage, 'from/a.txt', 'a');
      await writeText(storage, 'from/sub/b.txt', 'b');
      await storage.rename('from', 'to');
      expect((await listAll(storage)).map((entry) => entry.path)).toEqual([
        'to',
        'to/a.txt',
        'to/sub',
        'to/sub/b.txt',
      ]);
      expect((await readAll(storage, 'to/sub/b.txt')).toString()).toBe('b');
    });

    it('refuses to rename onto an existing path with CONFLICT, changing nothing', { timeout }, async () => {
      await writeText(storage, 'a.txt', 'a');
      await writeText(storage, 'b.txt', 'b');
      await expectCode(storage.rename('a.txt', 'b.txt'), 'CONFLICT');
      expect((await readAll(storage, 'a.txt')).toString()).toBe('a');
      expect((await readAll(storage, 'b.txt')).toString()).toBe('b');
      await expectCode(storage.rename('missing.txt', 'c.txt'), 'NOT_FOUND');
    });

    it('deletes a file, and deleting what is gone is not an error', { timeout }, async () => {
      await writeText(storage, 'dir/gone.txt', 'bye');
      await storage.delete('dir/gone.txt');
      expect(await storage.stat('dir/gone.txt')).toBeNull();
      await storage.delete('dir/gone.txt');
      await storage.delete('never/existed.txt');
    });

    it('stores the mtime given to write() and setMtime() within its precision', {
      timeout,
    }, async (context) => {
      const precision = storage.capabilities.mtimePrecisionMs;
      if (precision === null || !storage.capabilities.canSetMtime) context.skip();
      const tolerance = precision ?? 0;
      const mtime = Date.UTC(2021, 4, 6, 7, 8, 9, 123);
      const written = await writeText(storage, 'dated.txt', 'x', mtime);
      expect(Math.abs(written.mtime - mtime)).toBeLessThan(Math.max(tolerance, 1));
      expect(Math.abs((await storage.stat('dated.txt'))!.mtime - mtime)).toBeLessThan(Math.max(tolerance, 1));
      if (storage.setMtime) {
        const later = Date.UTC(2022, 0, 2, 3, 4, 5, 678);
        await storage.setMtime('dated.txt', later);
        expect(Math.abs((await storage.stat('dated.txt'))!.mtime - later)).toBeLessThan(
          Math.max(tolerance, 1),
        );
        const listed = (await listAll(storage)).find((entry) => entry.path === 'dated.txt');
        expect(Math.abs(listed!.mtime - later)).toBeLessThan(Math.max(tolerance, 1));
      }
    });

    it('hashes content exactly as hashing the bytes locally, for every algorithm it offers', {
      timeout,
    }, async () => {
      const data = Buffer.from('hash me, please '.repeat(5000));
      await writeText(storage, 'h/data.bin', data);
      await writeText(storage, 'h/empty.bin', '');
      const algorithms = storage.capabilities.hashAlgorithms.filter(canHashLocally);
      if (algorithms.length > 0) expect(storage.hash).toBeDefined();
      for (const algorithm of algorithms) {
        expect(await storage.hash!('h/data.bin', algorithm)).toBe(hashBytes(data, algorithm));
        expect(await storage.hash!('h/empty.bin', algorithm)).toBe(hashBytes('', algorithm));
      }
      if (storage.hash && algorithms[0])
        await expectCode(storage.hash('h/missing', algorithms[0]), 'NOT_FOUND');
    });

    it('reports stable ids across a rename when it says ids are stable', { timeout }, async (context) => {
      if (!storage.capabilities.stableIds) context.skip();
      await writeText(storage, 'x.txt', 'same file');
      const before = await storage.stat('x.txt');
      await storage.rename('x.txt', 'y.txt');
      const after = await storage.stat('y.txt');
      expect(before?.id).toBeDefined();
      expect(after?.id).toBe(before?.id);
    });

    it('rejects absolute, `..` and malformed paths with INVALID_PATH, touching nothing', {
      timeout,
    }, async () => {
      await writeText(storage, 'inside.txt', 'inside');
      const bad = ['../x', '/abs', 'a/../../x', 'a//b', '', 'a/\0b'];
      for (const path of bad) {
        await expectCode(storage.stat(path), 'INVALID_PATH');
        await expectCode(storage.read(path), 'INVALID_PATH');
        await expectCode(writeText(storage, path, 'evil'), 'INVALID_PATH');
        await expectCode(storage.delete(path), 'INVALID_PATH');
        await expectCode(storage.mkdir(path), 'INVALID_PATH');
        await expectCode(storage.rename('inside.txt', path), 'INVALID_PATH');
        await expectCode(storage.rename(path, 'elsewhere.txt'), 'INVALID_PATH');
        if (storage.hash && storage.capabilities.hashAlgorithms[0]) {
          await expectCode(storage.hash(path, storage.capabilities.hashAlgorithms[0]), 'INVALID_PATH');
        }
      }
      expect(paths(await listAll(storage))).toEqual(['inside.txt']);
      expect((await readAll(storage, 'inside.txt')).toString()).toBe('inside');
    });

    it('recovers after its connection drops', { timeout }, async (context) => {
      if (!options.dropConnection) context.skip();
      await writeText(storage, 'before.txt', 'before');
      await options.dropConnection!(storage);
      expect((await storage.stat('before.txt'))?.size).toBe(6);
      await options.dropConnection!(storage);
      expect((await readAll(storage, 'before.txt')).toString()).toBe('before');
      await options.dropConnection!(storage);
      await writeText(storage, 'after.txt', 'after');
      await options.dropConnection!(storage);
      expect(paths(await listAll(storage)).sort()).toEqual(['after.txt', 'before.txt']);
    });
  });
}
