import { Readable } from 'node:stream';
import { hashBytes, isSyncError } from '@syncengine/engine';
import { describeStorageContract, listAll, readAll, writeText } from '@syncengine/engine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type S3TestServer, startS3Server } from '../test/testing/s3-server.js';
import { S3Storage, type S3StorageOptions } from './s3-storage.js';

let shared: Promise<S3TestServer> | undefined;
/** One s3rver for the whole file, started on first use. */
function sharedServer(): Promise<S3TestServer> {
  shared ??= startS3Server();
  return shared;
}
afterAll(async () => {
  if (shared) await (await shared).stop();
});

let prefixes = 0;
async function makeOptions(overrides: Partial<S3StorageOptions> = {}): Promise<S3StorageOptions> {
  const server = await sharedServer();
  prefixes += 1;
  return {
    bucket: server.bucket,
    prefix: `run-${prefixes}/root`,
    endpoint: server.endpoint,
    forcePathStyle: true,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    retry: { attempts: 4, baseDelayMs: 20, maxDelayMs: 100 },
    ...overrides,
  };
}

describeStorageContract(
  'S3Storage (s3rver)',
  async () => ({ storage: new S3Storage(await makeOptions()), cleanup: async () => undefined }),
  {
    largeTreeSize: 500,
    dropConnection: async (storage) => {
      (storage as S3Storage).dropConnections();
    },
  },
);

describe('S3Storage against s3rver', () => {
  const opened: S3Storage[] = [];
  async function open(overrides: Partial<S3StorageOptions> = {}): Promise<S3Storage> {
    const storage = new S3Storage(await makeOptions(overrides));
    opened.push(storage);
    return storage;
  }
  beforeAll(async () => {
    await sharedServer();
  });
  afterAll(async () => {
    await Promise.all(opened.map((storage) => storage.close()));
  });

  it('lists the ETag as the md5 hash and the stored mtime', async () => {
    const storage = await open();
    await writeText(storage, 'a/b.txt', 'abc', 1_600_000_000_123);
    const [folder, entry] = await listAll(storage);
    expect(folder).toMatchObject({ path: 'a', isDir: true });
    expect(entry).toEqual({
      path: 'a/b.txt',
      size: 3,
      mtime: 1_600_000_000_123,
      isDir: false,
      hash: '900150983cd24fb0d6963f7d28e17f72',
      hashAlgorithm: 'md5',
    });
  });

  it('uploads a large file in parts and still reports its md5', async () => {
    const storage = await open({ partSize: 5 * 1024 * 1024 });
    const data = Buffer.alloc(11 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 997) data[i] = i % 256;
    const entry = await storage.write('big.bin', Readable.from([data]), { size: data.length });
    expect(entry.size).toBe(data.length);
    expect((await readAll(storage, 'big.bin')).equals(data)).toBe(true);
    expect(await storage.hash('big.bin', 'md5')).toBe(hashBytes(data, 'md5'));
  });

  it('renames with a server-side copy, keeping the mtime, and leaves nothing at the old key', async () => {
    const storage = await open();
    await writeText(storage, 'old name.txt', 'moving', 1_500_000_000_000);
    await storage.rename('old name.txt', 'dir é/new.txt');
    expect(await storage.stat('old name.txt')).toBeNull();
    expect(await storage.stat('dir é/new.txt')).toMatchObject({ size: 6, mtime: 1_500_000_000_000 });
    expect((await readAll(storage, 'dir é/new.txt')).toString()).toBe('moving');
  });

  it('renames a folder prefix with everything below it', async () => {
    const storage = await open();
    await writeText(storage, 'from/a.txt', 'a');
    await writeText(storage, 'from/sub/b.txt', 'b');
    await storage.mkdir('from/empty');
    await storage.rename('from', 'to');
    expect((await listAll(storage)).map((entry) => entry.path)).toEqual([
      'to',
      'to/a.txt',
      'to/empty',
      'to/sub',
      'to/sub/b.txt',
    ]);
  });

  it('keeps an empty folder with a marker object, and deletes it only when empty', async () => {
    const storage = await open();
    await storage.mkdir('empty');
    expect(await listAll(storage)).toEqual([{ path: 'empty', size: 0, mtime: 0, isDir: true }]);
    expect(await storage.stat('empty')).toMatchObject({ isDir: true });
    await writeText(storage, 'empty/now-full.txt', 'x');
    await expect(storage.delete('empty')).rejects.toMatchObject({ code: 'CONFLICT' });
    await storage.delete('empty/now-full.txt');
    await storage.delete('empty');
    expect(await listAll(storage)).toEqual([]);
  });

  it('lists across pages, folders before their contents', async () => {
    const storage = await open({ pageSize: 7 });
    const names = Array.from({ length: 30 }, (_, i) => `k${i % 3}/${String(i).padStart(2, '0')}.txt`);
    await Promise.all(names.map((name) => writeText(storage, name, 'x')));
    const listed = (await listAll(storage)).map((entry) => entry.path);
    expect(listed).toEqual([
      'k0',
      ...names.filter((n) => n.startsWith('k0/')),
      'k1',
      ...names.filter((n) => n.startsWith('k1/')),
      'k2',
      ...names.filter((n) => n.startsWith('k2/')),
    ]);
  });

  it('stays inside its prefix', async () => {
    const outside = await open({ prefix: 'shared-space' });
    await writeText(outside, 'not-mine.txt', 'x');
    const storage = await open({ prefix: 'shared' });
    expect(await listAll(storage)).toEqual([]);
  });

  it('reports a missing bucket as NOT_FOUND, naming it', async () => {
    const storage = await open({ bucket: 'no-such-bucket' });
    const error = await listAll(storage).catch((e: unknown) => e);
    expect(isSyncError(error, 'NOT_FOUND')).toBe(true);
    expect((error as Error).message).toContain('no-such-bucket');
  });

  it('gives a clear TRANSIENT error once the retry budget is spent', async () => {
    const storage = await open({
      endpoint: 'http://127.0.0.1:1',
      retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 10 },
    });
    const error = await storage.stat('x').catch((e: unknown) => e);
    expect(isSyncError(error, 'TRANSIENT')).toBe(true);
    expect((error as Error).message).toMatch(/failed after 2 attempts/);
  });

  it('reports upload times instead of mtimes when listing mtimes is turned off', async () => {
    const storage = await open({ listMtimes: false });
    expect(storage.capabilities).toMatchObject({ canSetMtime: false, mtimePrecisionMs: 1000 });
    await writeText(storage, 'x.txt', 'x', 1_000_000_000_000);
    const [entry] = await listAll(storage);
    expect(entry?.path).toBe('x.txt');
    expect(Math.abs(entry!.mtime - Date.now())).toBeLessThan(60_000);
  });
});
