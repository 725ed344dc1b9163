import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Run } from '@syncengine/contracts';
import { canReachPostgres, requireService, TEST_DATABASE_URL } from '@syncengine/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ADMIN_PASSWORD, eventually, startTestServer, type TestServer } from '../test/testing/test-server.js';

const hasPostgres = await requireService('Postgres', () => canReachPostgres(TEST_DATABASE_URL));

describe.skipIf(!hasPostgres)('attacks on the API, on a fresh Postgres database', () => {
  let server: TestServer;
  /** A folder outside the allowed root, holding one file that must never be read or joined. */
  let outside: string;
  const local = (path: string) => ({ type: 'local', path });
  const request: TestServer['request'] = (...args) => server.request(...args);
  const runToEnd = (pairId: string) => server.runToEnd(pairId, {}, 20_000);

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
      expect(run.error).toMatch(
        /^invalid pair configuration: the source path is refused by this worker: ".*swap\/source" is outside the allowed roots/,
      );
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
      expect(run.error).toMatch(
        /the destination path is refused by this worker: .* is outside the allowed roots/,
      );
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
      expect(run.error).toMatch(
        /the source path is refused by this worker: .* is SyncEngine's data directory/,
      );
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

  describe('cross-origin requests', () => {
    const startRun = (pairId: string, headers: Record<string, string>) =>
      server.runtime.app.inject({ method: 'POST', url: `/api/v1/pairs/${pairId}/runs`, headers });
    const runCount = async (pairId: string) =>
      (await request('GET', `/api/v1/pairs/${pairId}/runs`)).body.items.length as number;

    it('refuses a cookie-authenticated change sent from another origin, even body-less, and starts nothing', async () => {
      const { source, destination } = await server.folders('csrf');
      const pair = await server.createPair({
        name: 'csrf',
        source: local(source),
        destination: local(destination),
      });
      const crossOrigin: Record<string, string>[] = [
        { origin: 'https://evil.example' },
        { origin: 'http://localhost:8081' },
        { origin: 'https://localhost' },
        { origin: 'null' },
        { 'sec-fetch-site': 'cross-site' },
        { 'sec-fetch-site': 'same-site' },
      ];
      for (const headers of crossOrigin) {
        const refused = await startRun(pair.id, { cookie: server.cookie, ...headers });
        expect(refused.statusCode, JSON.stringify(headers)).toBe(403);
        expect(refused.json().message).toMatch(/cross-origin request refused/);
      }
      const deleted = await request('DELETE', `/api/v1/pairs/${pair.id}`, undefined, {
        origin: 'https://evil.example',
      });
      expect(deleted.status).toBe(403);
      const login = await server.runtime.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: { origin: 'https://evil.example' },
        payload: { username: 'admin', password: 'whatever' },
      });
      expect(login.statusCode).toBe(403);
      expect(await runCount(pair.id)).toBe(0);
    });

    it('accepts the same change from its own origin, and from a bearer token whatever the origin', async () => {
      const { source, destination } = await server.folders('same-origin');
      const pair = await server.createPair({
        name: 'same-origin',
        source: local(source),
        destination: local(destination),
      });
      // app.inject addresses the server as http://localhost:80.
      const own = await startRun(pair.id, {
        cookie: server.cookie,
        origin: 'http://localhost',
        'sec-fetch-site': 'same-origin',
      });
      expect(own.statusCode).toBe(202);
      await eventually(async () => {
        const runs = (await request('GET', `/api/v1/pairs/${pair.id}/runs`)).body.items as Run[];
        return runs.every((run) => ['completed', 'failed', 'cancelled'].includes(run.status));
      });
      const behindProxy = await request(
        'PATCH',
        `/api/v1/pairs/${pair.id}`,
        { name: 'renamed' },
        {
          origin: 'https://sync.example',
          host: 'sync.example',
          'x-forwarded-proto': 'https',
        },
      );
      expect(behindProxy.status).toBe(200);
      const token = (await request('POST', '/api/v1/tokens', { name: 'csrf-bearer' })).body.token as string;
      const bearer = await startRun(pair.id, {
        authorization: `Bearer ${token}`,
        origin: 'https://evil.example',
      });
      expect(bearer.statusCode).toBe(202);
      expect(await runCount(pair.id)).toBe(2);
    });

    it('forbids framing and sends a content security policy', async () => {
      const page = await server.runtime.app.inject({ method: 'GET', url: '/' });
      expect(page.headers['x-frame-options']).toBe('DENY');
      const csp = String(page.headers['content-security-policy']);
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("default-src 'self'");
      expect(csp).toMatch(/script-src 'self'[^;]*;/);
      expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
      expect(csp).not.toContain('upgrade-insecure-requests');
      const api = await request('GET', '/api/v1/pairs');
      expect(api.headers['x-frame-options']).toBe('DENY');
      expect(api.headers['x-content-type-options']).toBe('nosniff');
    });
  });

  describe('WebSocket credentials', () => {
    let baseUrl: string;
    beforeAll(async () => {
      const address = await server.runtime.app.listen({ port: 0, host: '127.0.0.1' });
      baseUrl = address.replace(/^http/, 'ws');
    });

    /** Opens a socket, waits for its snapshot, and resolves `closed` with the close code. */
    async function openSocket(headers: Record<string, string>) {
      const socket = new WebSocket(`${baseUrl}/api/v1/ws`, { headers });
      const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
      await new Promise<void>((resolve, reject) => {
        socket.once('message', () => resolve());
        socket.once('unexpected-response', (_request, response) =>
          reject(new Error(`refused with ${response.statusCode}`)),
        );
      });
      return { socket, closed };
    }
    const within = <T>(promise: Promise<T>, ms = 10_000) =>
      Promise.race([
        promise,
        new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error('still open')), ms)),
      ]);

    it('closes a socket when its token is deleted, and leaves other sockets open', async () => {
      const created = (await request('POST', '/api/v1/tokens', { name: 'ws-revoked' })).body as {
        id: string;
        token: string;
      };
      const kept = (await request('POST', '/api/v1/tokens', { name: 'ws-kept' })).body as { token: string };
      const revoked = await openSocket({ authorization: `Bearer ${created.token}` });
      const other = await openSocket({ authorization: `Bearer ${kept.token}` });
      expect((await request('DELETE', `/api/v1/tokens/${created.id}`)).status).toBe(204);
      expect(await within(revoked.closed)).toBe(4001);
      expect(other.socket.readyState).toBe(WebSocket.OPEN);
      other.socket.close();
    });

    it('closes a cookie-authenticated socket when its session logs out', async () => {
      const login = await server.runtime.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'admin', password: ADMIN_PASSWORD },
      });
      const setCookie = login.headers['set-cookie'];
      const cookie = String(Array.isArray(setCookie) ? setCookie[0] : setCookie).split(';')[0]!;
      const origin = baseUrl.replace(/^ws/, 'http');
      const session = await openSocket({ cookie, origin });
      const logout = await server.runtime.app.inject({
        method: 'POST',
        url: '/api/v1/auth/logout',
        headers: { cookie },
      });
      expect(logout.statusCode).toBeLessThan(300);
      expect(await within(session.closed)).toBe(4001);
    });
  });

  describe('sign-in limits', () => {
    const login = (username: string, password: string, remoteAddress: string) =>
      server.runtime.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        remoteAddress,
        payload: { username, password },
      });

    it('refuses a user name after 10 failed sign-ins with 429 and Retry-After, from any address, even with the right password', async () => {
      const { username } = { username: 'guessed-user' };
      for (let attempt = 0; attempt < 10; attempt += 1) {
        expect((await login(username, `wrong-${attempt}`, `10.1.0.${attempt}`)).statusCode).toBe(401);
      }
      const refused = await login(username, 'another guess', '10.1.1.1');
      expect(refused.statusCode).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(refused.json().message).toMatch(/too many failed sign-ins/);
      // Other users are not locked out by it.
      expect((await login('admin', ADMIN_PASSWORD, '10.1.1.1')).statusCode).toBe(200);
    });

    it('refuses an address after 30 failed sign-ins, whatever the user names, and not the others', async () => {
      for (let attempt = 0; attempt < 30; attempt += 1) {
        expect((await login(`user-${attempt}`, 'wrong', '10.2.0.1')).statusCode).toBe(401);
      }
      const refused = await login('admin', ADMIN_PASSWORD, '10.2.0.1');
      expect(refused.statusCode).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect((await login('admin', ADMIN_PASSWORD, '10.2.0.2')).statusCode).toBe(200);
    });

    it('bounds the password hashing of a flood of sign-ins, answering the excess 503, while other requests are served', async () => {
      const flood = Array.from({ length: 60 }, (_, index) =>
        login(`flood-${index}`, 'wrong', `10.3.${index}.1`),
      );
      const during = await request('GET', '/api/v1/pairs');
      expect(during.status).toBe(200);
      const statuses = (await Promise.all(flood)).map((response) => response.statusCode);
      expect(new Set(statuses)).toEqual(new Set([401, 503]));
      expect(statuses.filter((status) => status === 401).length).toBeGreaterThanOrEqual(18);
    });
  });

  describe('bad input', () => {
    it('answers 400 naming the field for NUL characters and unpaired surrogates anywhere in a request', async () => {
      const { source, destination } = await server.folders('bad-text');
      const pair = { name: 'bad-text', source: local(source), destination: local(destination) };
      const runId = '00000000-0000-4000-8000-000000000000';
      for (const [method, url, payload, field] of [
        ['POST', '/api/v1/pairs', { ...pair, name: 'a\u0000b' }, 'body.name'],
        ['POST', '/api/v1/pairs', { ...pair, name: 'lone \ud800' }, 'body.name'],
        ['POST', '/api/v1/pairs', { ...pair, source: local(`${source}\u0000x`) }, 'body.source.path'],
        [
          'POST',
          '/api/v1/pairs',
          { ...pair, ignorePatterns: ['ok', '*.tmp\udc80'] },
          'body.ignorePatterns.1',
        ],
        ['GET', `/api/v1/runs/${runId}/actions?path=%00`, undefined, 'querystring.path'],
      ] as const) {
        const answer = await request(method, url, payload);
        expect(answer.status, `${url} ${JSON.stringify(payload)}`).toBe(400);
        expect(answer.body.issues[0].path).toBe(field);
      }
    });

    it('answers 400 naming the field for over-long paths, paths under a file, symlink loops and a huge cursor', async () => {
      const { source } = await server.folders('bad-paths');
      await writeFile(join(source, 'a-file'), 'x');
      await symlink(join(source, 'loop-b'), join(source, 'loop-a'));
      await symlink(join(source, 'loop-a'), join(source, 'loop-b'));
      for (const [path, message] of [
        [join(source, 'n'.repeat(300)), /too long/],
        [join(source, `${'d/'.repeat(2_100)}x`), /too long/],
        [join(source, 'a-file', 'below'), /goes through a file/],
        [join(source, 'loop-a', 'x'), /loop of symbolic links/],
      ] as const) {
        const answer = await request('POST', '/api/v1/pairs', {
          name: 'bad-path',
          source: local(path),
          destination: local(join(server.root, 'bad-paths', 'destination')),
        });
        expect(answer.status).toBe(400);
        expect(answer.body.issues).toEqual([
          { path: 'source.path', message: expect.stringMatching(message) },
        ]);
      }
      const runId = '00000000-0000-4000-8000-000000000000';
      const cursor = await request('GET', `/api/v1/runs/${runId}/actions?cursor=${'9'.repeat(40)}`);
      expect(cursor.status).toBe(400);
      expect(cursor.body.message).toMatch(/cursor/);
    });
  });
});
