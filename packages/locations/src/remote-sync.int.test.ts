/**
 * Two-way sync between a local folder and each remote backend, opened the way the CLI
 * opens them (a URL through parseLocationUrl, then openStorage), against real servers on
 * 127.0.0.1. Cases from SPEC §3: new on each side, modified on one side, deleted on one
 * side, a conflict.
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStateStore, type Storage, type SyncConfig, sync, VERSIONS_DIR } from '@syncengine/engine';
import { listAll, readAll, writeText } from '@syncengine/engine/testing';
import { type S3TestServer, startS3Server } from '@syncengine/storage-s3/testing';
import { findSshd, type SshdServer, startSshd } from '@syncengine/storage-sftp/testing';
import { hasRclone, startRcloneWebdav, type WebdavTestServer } from '@syncengine/storage-webdav/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { type OpenStorageOptions, openStorage } from './open-storage.js';
import { parseLocationUrl } from './parse-location-url.js';

const sshd = findSshd();
const rclone = hasRclone();
if (process.env.REQUIRE_SERVICES === '1') {
  if (!sshd) throw new Error('REQUIRE_SERVICES=1 but sshd is missing: install Debian package openssh-server');
  if (!rclone) throw new Error('REQUIRE_SERVICES=1 but rclone is missing: install Debian package rclone');
}

interface Remote {
  name: string;
  available: boolean;
  /** Opens a fresh, empty remote location. */
  open(): Promise<Storage>;
  stop(): Promise<void>;
}

const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const stop of stops) await stop();
});

function lazy<T extends { stop(): Promise<void> }>(start: () => Promise<T>): () => Promise<T> {
  let started: Promise<T> | undefined;
  return () => {
    if (!started) {
      started = start();
      stops.push(async () => (await started!).stop());
    }
    return started;
  };
}

let counter = 0;
const sftpServer = lazy<SshdServer>(() => startSshd(sshd!));
const s3Server = lazy<S3TestServer>(() => startS3Server());
const webdavServer = lazy<WebdavTestServer>(() => startRcloneWebdav());

const remotes: Remote[] = [
  {
    name: 'sftp',
    available: sshd !== null,
    async open() {
      const server = await sftpServer();
      const url = `sftp://${server.username}@${server.host}:${server.port}${server.dataDir}/pair-${++counter}`;
      const options: OpenStorageOptions = {
        knownHostsPath: server.knownHostsPath,
        env: { HOME: '/nonexistent' },
      };
      return openStorage(parseLocationUrl(url, { sftpKeyPath: server.privateKeyPath, env: {} }), options);
    },
    stop: async () => undefined,
  },
  {
    name: 's3',
    available: true,
    async open() {
      const server = await s3Server();
      const location = parseLocationUrl(`s3://${server.bucket}/pair-${++counter}`, {
        s3Endpoint: server.endpoint,
        env: {},
      });
      return openStorage(location, {
        env: { AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey },
      });
    },
    stop: async () => undefined,
  },
  {
    name: 'webdav',
    available: rclone,
    async open() {
      const server = await webdavServer();
      const host = new URL(server.url).host;
      const url = `webdav://${server.username}:${server.password}@${host}/pair-${++counter}`;
      return openStorage(parseLocationUrl(url, { env: {} }));
    },
    stop: async () => undefined,
  },
];

const T0 = Date.UTC(2025, 0, 1);

async function putLocal(root: string, path: string, content: string, mtime: number): Promise<void> {
  const full = join(root, path);
  await mkdir(join(full, '..'), { recursive: true });
  await writeFile(full, content);
  const { utimes } = await import('node:fs/promises');
  await utimes(full, mtime / 1000, mtime / 1000);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Files of a storage outside the engine's own folder, as `path: content`. */
async function contents(storage: Storage): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await listAll(storage, (path) => !path.startsWith('.syncengine'))) {
    if (!entry.isDir) out[entry.path] = (await readAll(storage, entry.path)).toString();
  }
  return out;
}

describe.each(remotes)('two-way sync: local ↔ $name', (remote) => {
  it.skipIf(!remote.available)(
    'merges, propagates edits and deletes both ways, and resolves a conflict keeping the loser',
    async () => {
      const root = await mkdtemp(join(tmpdir(), 'syncengine-remote-sync-'));
      stops.push(() => rm(root, { recursive: true, force: true }));
      const localRoot = join(root, 'local');
      await mkdir(localRoot);
      const local = await openStorage(parseLocationUrl(localRoot));
      const far = await remote.open();
      stops.push(async () => far.close?.());
      const state = new MemoryStateStore();
      const config: Partial<SyncConfig> = { mode: 'TWO_WAY', conflictResolution: 'SOURCE_WINS' };
      const run = async () => {
        const result = await sync({ source: local, destination: far, state, config });
        expect(result.errors).toEqual([]);
        return result;
      };

      // First sync: a merge. New on each side → UPLOAD_NEW / DOWNLOAD_NEW.
      await putLocal(localRoot, 'a.txt', 'a from local', T0);
      await putLocal(localRoot, 'b.txt', 'b from local', T0);
      await putLocal(localRoot, 'dir/c.txt', 'c from local', T0);
      await writeText(far, 'r.txt', 'r from remote', T0);
      const first = await run();
      // Three files and the folder.
      expect(first.stats.actions.UPLOAD_NEW).toBe(4);
      expect(first.stats.actions.DOWNLOAD_NEW).toBe(1);
      expect(await contents(far)).toEqual({
        'a.txt': 'a from local',
        'b.txt': 'b from local',
        'dir/c.txt': 'c from local',
        'r.txt': 'r from remote',
      });
      expect(await readFile(join(localRoot, 'r.txt'), 'utf8')).toBe('r from remote');

      // Nothing changed: nothing moves.
      const idle = await run();
      expect(idle.plan.actions.filter((action) => action.type !== 'NO_ACTION')).toEqual([]);
      expect(idle.stats.bytesUploaded + idle.stats.bytesDownloaded).toBe(0);

      // modified / unchanged → UPLOAD_UPDATE; unchanged / deleted → DELETE_SOURCE;
      // unchanged / modified → DOWNLOAD_UPDATE.
      await putLocal(localRoot, 'a.txt', 'a edited locally', T0 + 60_000);
      await far.delete('b.txt');
      await writeText(far, 'r.txt', 'r edited remotely', Date.now());
      const second = await run();
      expect(second.stats.actions).toMatchObject({ UPLOAD_UPDATE: 1, DELETE_SOURCE: 1, DOWNLOAD_UPDATE: 1 });
      expect(await contents(far)).toEqual({
        'a.txt': 'a edited locally',
        'dir/c.txt': 'c from local',
        'r.txt': 'r edited remotely',
      });
      expect(await exists(join(localRoot, 'b.txt'))).toBe(false);
      expect(await readFile(join(localRoot, 'r.txt'), 'utf8')).toBe('r edited remotely');

      // deleted / unchanged → DELETE_DESTINATION.
      await rm(join(localRoot, 'dir/c.txt'));
      const third = await run();
      expect(third.stats.actions.DELETE_DESTINATION).toBe(1);
      expect(Object.keys(await contents(far)).sort()).toEqual(['a.txt', 'r.txt']);

      // modified / modified, different → CONFLICT; SOURCE_WINS keeps the remote's version aside.
      await putLocal(localRoot, 'a.txt', 'a, local side of the conflict', T0 + 120_000);
      await writeText(far, 'a.txt', 'a, remote side of the conflict', Date.now());
      const fourth = await run();
      expect(fourth.stats.conflicts).toBe(1);
      expect((await readAll(far, 'a.txt')).toString()).toBe('a, local side of the conflict');
      expect(await readFile(join(localRoot, 'a.txt'), 'utf8')).toBe('a, local side of the conflict');
      const kept = await listAll(far, (path) => path === '.syncengine' || path.startsWith(`${VERSIONS_DIR}`));
      const keptFiles = kept.filter((entry) => !entry.isDir && entry.path.endsWith('/a.txt'));
      expect(keptFiles.length).toBeGreaterThan(0);
      const versions = await Promise.all(
        keptFiles.map(async (entry) => (await readAll(far, entry.path)).toString()),
      );
      expect(versions).toContain('a, remote side of the conflict');
    },
    120_000,
  );
});
