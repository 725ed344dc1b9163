import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSyncError } from '@syncengine/engine';
import { describeStorageContract, listAll, readAll, writeText } from '@syncengine/engine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRclone, startRcloneWebdav, type WebdavTestServer } from '../test/testing/rclone-webdav.js';
import { WebdavStorage, type WebdavStorageOptions } from './webdav-storage.js';

const rclone = hasRclone();
if (!rclone && process.env.REQUIRE_SERVICES === '1') {
  throw new Error('REQUIRE_SERVICES=1 but rclone is missing: install Debian package rclone');
}

let shared: Promise<WebdavTestServer> | undefined;
/** One server for the whole file, started on first use. */
function sharedServer(): Promise<WebdavTestServer> {
  shared ??= startRcloneWebdav();
  return shared;
}
afterAll(async () => {
  if (shared) await (await shared).stop();
});

let roots = 0;
async function makeOptions(overrides: Partial<WebdavStorageOptions> = {}): Promise<WebdavStorageOptions> {
  const server = await sharedServer();
  roots += 1;
  return {
    url: `${server.url}/root-${roots}`,
    username: server.username,
    password: server.password,
    retry: { attempts: 4, baseDelayMs: 20, maxDelayMs: 100 },
    ...overrides,
  };
}

if (rclone) {
  describeStorageContract(
    'WebdavStorage (rclone serve webdav)',
    async () => {
      const storage = new WebdavStorage(await makeOptions());
      await storage.probe();
      return { storage, cleanup: async () => undefined };
    },
    {
      largeTreeSize: 600,
      dropConnection: async (storage) => {
        (storage as WebdavStorage).dropConnections();
      },
    },
  );
}

describe.skipIf(!rclone)('WebdavStorage against rclone serve webdav', () => {
  let server: WebdavTestServer;
  const opened: WebdavStorage[] = [];
  async function open(overrides: Partial<WebdavStorageOptions> = {}): Promise<WebdavStorage> {
    const storage = new WebdavStorage(await makeOptions(overrides));
    opened.push(storage);
    return storage;
  }
  beforeAll(async () => {
    server = await sharedServer();
  });
  afterAll(async () => {
    await Promise.all(opened.map((storage) => storage.close()));
  });

  it('says that this server cannot keep mtimes, after probing it', async () => {
    const storage = await open();
    await storage.mkdir('x');
    await storage.probe();
    expect(storage.capabilities).toMatchObject({ canSetMtime: false, mtimePrecisionMs: null });
    expect(await listAll(storage)).toEqual([expect.objectContaining({ path: 'x', isDir: true })]);
  });

  it('reports the ETag as an etag hash that changes with the content', async () => {
    const storage = await open();
    const first = await writeText(storage, 'e.txt', 'one');
    expect(first.hashAlgorithm).toBe('etag');
    expect((await listAll(storage))[0]?.hash).toBe(first.hash);
    const second = await writeText(storage, 'e.txt', 'three');
    expect(second.hash).not.toBe(first.hash);
    expect(await storage.hash('e.txt', 'etag')).toBe(second.hash);
  });

  it('lists a nested tree that was created on the server directly', async () => {
    const storage = await open();
    const root = join(server.dataDir, `root-${roots}`);
    mkdirSync(join(root, 'a/b'), { recursive: true });
    writeFileSync(join(root, 'a/b/c.txt'), 'c');
    writeFileSync(join(root, 'top.txt'), 'top');
    expect((await listAll(storage)).map((entry) => entry.path)).toEqual(['a', 'a/b', 'a/b/c.txt', 'top.txt']);
  });

  it('copies on the server', async () => {
    const storage = await open();
    await writeText(storage, 'src.txt', 'copy me');
    await storage.copy('src.txt', 'dir/dst.txt');
    expect((await readAll(storage, 'dir/dst.txt')).toString()).toBe('copy me');
    expect((await readAll(storage, 'src.txt')).toString()).toBe('copy me');
  });

  it('refuses wrong credentials with PERMISSION', async () => {
    const storage = await open({ password: 'wrong', retry: { attempts: 1 } });
    const error = await storage.stat('x').catch((e: unknown) => e);
    expect(isSyncError(error, 'PERMISSION')).toBe(true);
  });

  it('gives a clear TRANSIENT error once the retry budget is spent', async () => {
    const storage = new WebdavStorage({
      url: 'http://127.0.0.1:1/dav',
      retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 10 },
    });
    const error = await storage.stat('x').catch((e: unknown) => e);
    expect(isSyncError(error, 'TRANSIENT')).toBe(true);
    expect((error as Error).message).toMatch(/failed after 2 attempts/);
  });
});
