import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Run } from '@syncengine/contracts';
import { canReachPostgres, requireService, TEST_DATABASE_URL } from '@syncengine/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './testing/test-server.js';

const hasPostgres = await requireService('Postgres', () => canReachPostgres(TEST_DATABASE_URL));

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** Waits until `check` returns a value (polling), or fails after `timeoutMs`. */
async function eventually<T>(
  check: () => Promise<T | null | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.skipIf(!hasPostgres)('attacks on the API, on a fresh Postgres database', () => {
  let server: TestServer;
  /** A folder outside the allowed root, holding one file that must never be read or joined. */
  let outside: string;
  const local = (path: string) => ({ type: 'local', path });
  const request = async (
    method: Method,
    url: string,
    payload?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const response = await server.runtime.app.inject({
      method,
      url,
      headers: { cookie: server.cookie, ...headers },
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
    return {
      status: response.statusCode,
      body: response.body ? response.json() : null,
      headers: response.headers,
    };
  };
  async function runToEnd(pairId: string): Promise<Run> {
    const started = await request('POST', `/api/v1/pairs/${pairId}/runs`, {});
    expect(started.status).toBe(202);
    const run = started.body as Run;
    return eventually(async () => {
      const current = (await request('GET', `/api/v1/runs/${run.id}`)).body as Run;
      return ['completed', 'failed', 'cancelled'].includes(current.status) ? current : null;
    });
  }

  beforeAll(async () => {
    server = await startTestServer({
      driver: 'postgres',
      secretKey: 'a test secret key that is long enough',
    });
    outside = await mkdtemp(join(tmpdir(), 'syncengine-outside-'));
    await writeFile(join(outside, 'secret.txt'), 'not for syncing');
  });
  afterAll(async () => {
    await server?.close();
    if (outside) await rm(outside, { recursive: true, force: true });
  });

  describe('confinement at run time', () => {
    it('refuses to run or preview a pair whose folder was swapped for a symlink leading outside the roots', async () => {
      const { source, destination } = await server.folders('swap');
      await writeFile(join(destination, 'from-destination.txt'), 'would be copied to the source');
      const pair = await server.createPair({
        name: 'swap',
        source: local(source),
        destination: local(destination),
      });
      await rm(source, { recursive: true });
      await symlink(outside, source);

      const run = await runToEnd(pair.id);
      expect(run.status).toBe('failed');
      expect(run.error).toMatch(/source\.path: ".*swap\/source" is outside the allowed roots/);
      expect(await readdir(outside)).toEqual(['secret.txt']);
      expect(await readdir(destination)).toEqual(['from-destination.txt']);

      const preview = await request('GET', `/api/v1/pairs/${pair.id}/plan`);
      expect(preview.status).toBe(422);
      expect(preview.body.message).toMatch(/source\.path: ".*" is outside the allowed roots/);
      expect(preview.body.issues).toEqual([
        { path: 'source.path', message: expect.stringMatching(/outside/) },
      ]);
      expect(await readdir(outside)).toEqual(['secret.txt']);
    });

    it('refuses a pair whose parent folder was swapped for a symlink, even when the pair folder does not exist yet', async () => {
      const base = join(server.root, 'swap-parent');
      await mkdir(join(base, 'source'), { recursive: true });
      await writeFile(join(base, 'source', 'a.txt'), 'a');
      // Saving needs the folder; it is gone, its parent a symlink out, by the time the run starts.
      await mkdir(join(base, 'later', 'destination'), { recursive: true });
      const pair = await server.createPair({
        name: 'swap-parent',
        source: local(join(base, 'source')),
        destination: local(join(base, 'later', 'destination')),
      });
      await rm(join(base, 'later'), { recursive: true });
      await symlink(outside, join(base, 'later'));
      const run = await runToEnd(pair.id);
      expect(run.status).toBe('failed');
      expect(run.error).toMatch(/destination\.path: .* is outside the allowed roots/);
      expect(await readdir(outside)).toEqual(['secret.txt']);
    });
  });

  describe("the server's own data directory", () => {
    /** Where the test server keeps its data; made to hold a secret as the embedded mode's does. */
    const dataDir = () => join(server.root, '.data');
    beforeAll(async () => {
      await mkdir(dataDir(), { recursive: true });
      await writeFile(join(dataDir(), 'secret.key'), 'a secret key');
    });

    it('refuses a pair over the data directory, inside it, or over a folder that contains it', async () => {
      const { destination } = await server.folders('data-dir');
      for (const [path, message] of [
        [dataDir(), /is SyncEngine's data directory/],
        [join(dataDir(), 'inner'), /is inside SyncEngine's data directory/],
        [server.root, /contains SyncEngine's data directory/],
      ] as const) {
        const refused = await request('POST', '/api/v1/pairs', {
          name: 'data',
          source: local(path),
          destination: local(destination),
        });
        expect(refused.status).toBe(400);
        expect(refused.body.message).toMatch(message);
        expect(refused.body.issues).toEqual([
          { path: 'source.path', message: expect.stringMatching(message) },
        ]);
      }
      expect(
        (await request('GET', '/api/v1/pairs')).body.items.map((pair: { name: string }) => pair.name),
      ).not.toContain('data');
    });

    it('refuses to run a pair whose folder became a symlink to the data directory, and copies nothing of it', async () => {
      const { source, destination } = await server.folders('data-swap');
      const pair = await server.createPair({
        name: 'data-swap',
        source: local(source),
        destination: local(destination),
      });
      await rm(source, { recursive: true });
      await symlink(dataDir(), source);
      const run = await runToEnd(pair.id);
      expect(run.status).toBe('failed');
      expect(run.error).toMatch(/source\.path: .* is SyncEngine's data directory/);
      expect(await readdir(destination)).toEqual([]);
    });
  });

  describe('SFTP key files', () => {
    const sftp = (privateKeyPath: string) => ({
      type: 'sftp',
      host: '127.0.0.1',
      port: 1,
      username: 'someone',
      path: '/',
      hostKey: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      privateKeyPath,
    });

    it('refuses a key file outside the allowed roots or in the data directory, naming the field', async () => {
      const { source } = await server.folders('sftp-key');
      for (const [path, message] of [
        ['/etc/ssh/ssh_host_ed25519_key', /outside the allowed roots/],
        [join(outside, 'secret.txt'), /outside the allowed roots/],
        [join(server.root, '.data', 'secret.key'), /is inside SyncEngine's data directory/],
      ] as const) {
        const refused = await request('POST', '/api/v1/pairs', {
          name: 'sftp-key',
          source: local(source),
          destination: sftp(path),
        });
        expect(refused.status).toBe(400);
        expect(refused.body.issues).toEqual([
          { path: 'destination.privateKeyPath', message: expect.stringMatching(message) },
        ]);
      }
    });

    it('refuses at run time a key file swapped for a symlink leading outside the roots, before connecting', async () => {
      const { source } = await server.folders('sftp-key-swap');
      const keyPath = join(server.root, 'sftp-key-swap', 'id_ed25519');
      await writeFile(keyPath, 'not really a key');
      const pair = await server.createPair({
        name: 'sftp-key-swap',
        source: local(source),
        destination: sftp(keyPath),
      });
      await rm(keyPath);
      await symlink(join(outside, 'secret.txt'), keyPath);
      const run = await runToEnd(pair.id);
      expect(run.status).toBe('failed');
      expect(run.error).toMatch(/^destination\.privateKeyPath: ".*id_ed25519" is outside the allowed roots/);
    });
  });

  describe('credentials inside URLs', () => {
    it.each([
      [
        { type: 'webdav', url: 'https://alice:hunter2@dav.example/files' },
        'destination.url',
        /must not contain credentials: give them as username and password/,
      ],
      [
        { type: 'webdav', url: 'https://alice@dav.example/files' },
        'destination.url',
        /must not contain credentials/,
      ],
      [
        { type: 's3', bucket: 'b', endpoint: 'https://AKIA:wJalr@minio.example:9000' },
        'destination.endpoint',
        /must not contain credentials: give them as accessKeyId and secretAccessKey/,
      ],
    ])(
      'refuses %j with a 400 that says where credentials go, and stores nothing',
      async (destination, field, message) => {
        const { source } = await server.folders('url-credentials');
        const before = (await request('GET', '/api/v1/pairs')).body.items.length;
        const refused = await request('POST', '/api/v1/pairs', {
          name: 'creds',
          source: local(source),
          destination,
        });
        expect(refused.status).toBe(400);
        expect(refused.body.issues).toEqual([
          { path: `body.${field}`, message: expect.stringMatching(message) },
        ]);
        expect(JSON.stringify(refused.body)).not.toMatch(/hunter2|wJalr/);
        expect((await request('GET', '/api/v1/pairs')).body.items.length).toBe(before);
        const pair = await server.createPair({
          name: 'no-creds',
          source: local(source),
          destination: {
            type: 'webdav',
            url: 'https://dav.example/files',
            username: 'alice',
            password: 'hunter2',
          },
        });
        const patched = await request('PATCH', `/api/v1/pairs/${pair.id}`, { destination });
        expect(patched.status).toBe(400);
        expect(patched.body.issues[0].path).toBe(`body.${field}`);
        await request('DELETE', `/api/v1/pairs/${pair.id}`);
      },
    );
  });
});
