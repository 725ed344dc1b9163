import { mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BusEvent, Conflict, EntryMetadata, Pair, Run, RunAction, WsEvent } from '@syncengine/contracts';
import { schema } from '@syncengine/db';
import type { Storage } from '@syncengine/engine';
import { openStorage } from '@syncengine/locations';
import { nextScheduledRun } from '@syncengine/runs';
import { createSecretBox } from '@syncengine/secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { eventually, type Method, startTestServer, type TestServer } from './test-server.js';

const isRunEnd = (runId: string) => (event: BusEvent) =>
  (event.type === 'run.completed' || event.type === 'run.failed' || event.type === 'run.cancelled') &&
  event.run.id === runId;

/**
 * Real backends, except that writes of files named `held-*` wait until `releaseHeld()`:
 * a run copying one stays live for as long as a test needs.
 */
let releaseHeld: () => void = () => {};
let held = new Promise<void>((resolve) => {
  releaseHeld = resolve;
});
const holdHeldWrites = async (location: Parameters<typeof openStorage>[0]): Promise<Storage> => {
  const storage = await openStorage(location);
  // The instance itself (not a wrapper): backends check each other's class when they copy.
  const write = storage.write.bind(storage);
  storage.write = async (...args: Parameters<Storage['write']>) => {
    if (args[0].split('/').pop()?.startsWith('held-')) await held;
    return write(...args);
  };
  return storage;
};

/**
 * The API's behaviour, route by route, on a real database (`postgres`) or the embedded
 * one (`pglite`), with runs executed in-process on real temporary folders.
 */
export function describeApi(driver: 'postgres' | 'pglite') {
  describe(`API on ${driver}`, () => {
    let server: TestServer;
    const request: TestServer['request'] = (...args) => server.request(...args);
    const anonymous = async (method: Method, url: string, payload?: unknown) => {
      const response = await server.runtime.app.inject({
        method,
        url,
        ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
      });
      return { status: response.statusCode, body: response.json() };
    };
    const local = (path: string) => ({ type: 'local', path });
    const runToEnd = (pairId: string, body: Record<string, unknown> = {}) => server.runToEnd(pairId, body);

    beforeAll(async () => {
      server = await startTestServer({ driver, openStorage: holdHeldWrites });
    });
    afterAll(async () => {
      await server?.close();
    });

    describe('authentication', () => {
      const protectedRoutes: Array<[Method, string]> = [
        ['GET', '/api/v1/pairs'],
        ['POST', '/api/v1/pairs'],
        ['GET', `/api/v1/pairs/${crypto.randomUUID()}`],
        ['PATCH', `/api/v1/pairs/${crypto.randomUUID()}`],
        ['DELETE', `/api/v1/pairs/${crypto.randomUUID()}`],
        ['POST', `/api/v1/pairs/${crypto.randomUUID()}/runs`],
        ['GET', `/api/v1/pairs/${crypto.randomUUID()}/runs`],
        ['GET', `/api/v1/pairs/${crypto.randomUUID()}/plan`],
        ['GET', `/api/v1/runs/${crypto.randomUUID()}`],
        ['GET', `/api/v1/runs/${crypto.randomUUID()}/actions`],
        ['POST', `/api/v1/runs/${crypto.randomUUID()}/pause`],
        ['POST', `/api/v1/runs/${crypto.randomUUID()}/resume`],
        ['POST', `/api/v1/runs/${crypto.randomUUID()}/cancel`],
        ['GET', '/api/v1/conflicts'],
        ['POST', `/api/v1/conflicts/${crypto.randomUUID()}/resolve`],
        ['GET', `/api/v1/conflicts/${crypto.randomUUID()}/preview?side=source`],
        ['GET', `/api/v1/conflicts/${crypto.randomUUID()}/image?side=source`],
        ['POST', '/api/v1/tokens'],
        ['GET', '/api/v1/tokens'],
        ['DELETE', `/api/v1/tokens/${crypto.randomUUID()}`],
        ['GET', '/api/v1/metrics'],
        ['GET', '/api/v1/auth/me'],
        ['POST', '/api/v1/auth/logout'],
        ['GET', '/api/v1/ws'],
      ];
      it.each(protectedRoutes)('refuses %s %s without a session or token', async (method, url) => {
        const response = await anonymous(
          method,
          url,
          method === 'GET' || method === 'DELETE' ? undefined : {},
        );
        expect(response.status).toBe(401);
        expect(response.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
        expect(typeof response.body.requestId).toBe('string');
      });

      it('refuses a wrong password and a made-up bearer token', async () => {
        const login = await anonymous('POST', '/api/v1/auth/login', { username: 'admin', password: 'wrong' });
        expect(login.status).toBe(401);
        const unknownUser = await anonymous('POST', '/api/v1/auth/login', { username: 'eve', password: 'x' });
        expect(unknownUser.status).toBe(401);
        const bearer = await server.runtime.app.inject({
          method: 'GET',
          url: '/api/v1/pairs',
          headers: { authorization: 'Bearer se_not-a-token' },
        });
        expect(bearer.statusCode).toBe(401);
      });

      it('sets an httpOnly SameSite session cookie on login, and logout ends the session', async () => {
        const login = await server.runtime.app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { username: 'admin', password: 'correct horse battery' },
        });
        expect(login.statusCode).toBe(200);
        expect(login.json()).toMatchObject({ username: 'admin' });
        const setCookie = String(login.headers['set-cookie']);
        expect(setCookie).toMatch(/HttpOnly/i);
        expect(setCookie).toMatch(/SameSite=Lax/i);
        const cookie = setCookie.split(';')[0]!;
        expect((await request('GET', '/api/v1/auth/me', undefined, { cookie })).status).toBe(200);
        expect((await request('POST', '/api/v1/auth/logout', undefined, { cookie })).status).toBe(204);
        expect((await request('GET', '/api/v1/auth/me', undefined, { cookie })).status).toBe(401);
      });

      it('rejects a login body without a password, naming the field', async () => {
        const response = await anonymous('POST', '/api/v1/auth/login', { username: 'admin' });
        expect(response.status).toBe(400);
        expect(response.body.message).toMatch(/password/);
      });

      it('creates a token shown once, accepts it as a bearer token, lists it without the secret and revokes it', async () => {
        const created = await request('POST', '/api/v1/tokens', { name: 'ci' });
        expect(created.status).toBe(201);
        expect(created.body).toMatchObject({ name: 'ci', lastUsedAt: null });
        const { token, id } = created.body as { token: string; id: string };
        const bearer = { authorization: `Bearer ${token}`, cookie: '' };
        expect((await request('GET', '/api/v1/pairs', undefined, bearer)).status).toBe(200);
        const list = await request('GET', '/api/v1/tokens');
        const listed = list.body.items.find((item: { id: string }) => item.id === id);
        expect(listed).toBeDefined();
        expect(listed.token).toBeUndefined();
        expect(listed.lastUsedAt).not.toBeNull();
        expect((await request('DELETE', `/api/v1/tokens/${id}`)).status).toBe(204);
        expect((await request('GET', '/api/v1/pairs', undefined, bearer)).status).toBe(401);
        expect((await request('DELETE', `/api/v1/tokens/${id}`)).status).toBe(404);
        expect((await request('POST', '/api/v1/tokens', { name: '' })).status).toBe(400);
      });
    });

    describe('system', () => {
      it('reports database and queue state on /health without authentication', async () => {
        const response = await anonymous('GET', '/api/v1/health');
        expect(response.status).toBe(200);
        expect(response.body).toMatchObject({
          status: 'ok',
          database: { status: 'up', driver },
          queue: { status: 'up', driver: 'in-process' },
        });
      });

      it('serves Prometheus metrics with run, conflict and request figures', async () => {
        await anonymous('GET', '/api/v1/health');
        const response = await server.runtime.app.inject({
          method: 'GET',
          url: '/api/v1/metrics',
          headers: { cookie: server.cookie },
        });
        expect(response.statusCode).toBe(200);
        expect(response.headers['content-type']).toMatch(/^text\/plain/);
        expect(response.body).toMatch(/^syncengine_runs\{status="completed"\} \d+$/m);
        expect(response.body).toMatch(/^syncengine_conflicts_pending \d+$/m);
        expect(response.body).toMatch(
          /syncengine_http_requests_total\{method="GET",route="\/api\/v1\/health",status="200"\} \d+/,
        );
      });

      it('serves the OpenAPI document generated from the schemas, and the docs UI', async () => {
        const spec = await server.runtime.app.inject({ method: 'GET', url: '/docs/json' });
        expect(spec.statusCode).toBe(200);
        const document = spec.json();
        expect(Object.keys(document.paths)).toEqual(
          expect.arrayContaining([
            '/api/v1/pairs',
            '/api/v1/pairs/{id}/runs',
            '/api/v1/conflicts/{id}/resolve',
          ]),
        );
        expect(document.paths['/api/v1/pairs'].post.requestBody).toBeDefined();
        const ui = await server.runtime.app.inject({ method: 'GET', url: '/docs/' });
        expect(ui.statusCode).toBe(200);
      });

      it('answers unknown API routes with the error body', async () => {
        const response = await request('GET', '/api/v1/nothing-here');
        expect(response.status).toBe(404);
        expect(response.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
      });
    });

    describe('pairs', () => {
      it('creates a pair with the SPEC defaults and answers 201 with its id', async () => {
        const { source, destination } = await server.folders('defaults');
        const response = await request('POST', '/api/v1/pairs', {
          name: 'Documents',
          source: local(source),
          destination: local(destination),
        });
        expect(response.status).toBe(201);
        expect(response.body).toMatchObject({
          name: 'Documents',
          mode: 'TWO_WAY',
          comparisonMode: 'HASH_THEN_MTIME',
          conflictResolution: 'NEWEST_WINS',
          ignorePatterns: [],
          concurrency: { transfers: 5, operations: 10 },
          maxDeletePercent: 50,
          bandwidthLimit: null,
          schedule: null,
          enabled: true,
          watch: { enabled: false, debounceMs: 1_000, rescanMinutes: 60, pollSeconds: 60 },
          lastRun: null,
        });
        expect(response.body.id).toMatch(/^[0-9a-f-]{36}$/);
        const fetched = await request('GET', `/api/v1/pairs/${response.body.id}`);
        expect(fetched.body).toEqual(response.body);
        const list = await request('GET', '/api/v1/pairs');
        expect(list.body.items.map((pair: Pair) => pair.id)).toContain(response.body.id);
      });

      it('names the invalid field', async () => {
        const { source, destination } = await server.folders('invalid');
        const badMode = await request('POST', '/api/v1/pairs', {
          name: 'x',
          source: local(source),
          destination: local(destination),
          mode: 'SIDEWAYS',
        });
        expect(badMode.status).toBe(400);
        expect(badMode.body.message).toMatch(/^body\.mode/);
        const missing = await request('POST', '/api/v1/pairs', { name: 'x', source: local(source) });
        expect(missing.status).toBe(400);
        expect(missing.body.message).toMatch(/destination/);
        const concurrency = await request('POST', '/api/v1/pairs', {
          name: 'x',
          source: local(source),
          destination: local(destination),
          concurrency: { transfers: 0 },
        });
        expect(concurrency.body.message).toMatch(/^body\.concurrency\.transfers/);
      });

      it('stores a bandwidth limit, clears it with null, and refuses one below 1 KiB/s naming it', async () => {
        const { source, destination } = await server.folders('bandwidth-limit');
        const created = await request('POST', '/api/v1/pairs', {
          name: 'limited',
          source: local(source),
          destination: local(destination),
          bandwidthLimit: 512 * 1024,
        });
        expect(created.status).toBe(201);
        expect(created.body.bandwidthLimit).toBe(512 * 1024);
        const path = `/api/v1/pairs/${created.body.id}`;
        for (const [bandwidthLimit, message] of [
          [512, /^body\.bandwidthLimit: bandwidthLimit must be at least 1024 bytes per second/],
          [1500.5, /^body\.bandwidthLimit: bandwidthLimit must be a whole number/],
          ['1M', /^body\.bandwidthLimit/],
        ] as const) {
          const refused = await request('PATCH', path, { bandwidthLimit });
          expect(refused.status, String(bandwidthLimit)).toBe(400);
          expect(refused.body.message).toMatch(message);
        }
        expect((await request('GET', path)).body.bandwidthLimit).toBe(512 * 1024);
        const cleared = await request('PATCH', path, { bandwidthLimit: null });
        expect(cleared.status).toBe(200);
        expect((await request('GET', path)).body.bandwidthLimit).toBeNull();
      });

      it('stores the watch settings with their defaults, patches them field by field and names an invalid one', async () => {
        const { source, destination } = await server.folders('watch-settings');
        const created = await request('POST', '/api/v1/pairs', {
          name: 'watched',
          source: local(source),
          destination: local(destination),
          watch: { enabled: true, debounceMs: 300 },
        });
        expect(created.status).toBe(201);
        expect(created.body.watch).toEqual({
          enabled: true,
          debounceMs: 300,
          rescanMinutes: 60,
          pollSeconds: 60,
        });
        const patched = await request('PATCH', `/api/v1/pairs/${created.body.id}`, {
          watch: { pollSeconds: 30 },
        });
        expect(patched.status).toBe(200);
        expect(patched.body.watch).toEqual({
          enabled: true,
          debounceMs: 300,
          rescanMinutes: 60,
          pollSeconds: 30,
        });
        const off = await request('PATCH', `/api/v1/pairs/${created.body.id}`, { watch: { enabled: false } });
        expect(off.body.watch.enabled).toBe(false);
        const fetched = await request('GET', `/api/v1/pairs/${created.body.id}`);
        expect(fetched.body.watch).toEqual({
          enabled: false,
          debounceMs: 300,
          rescanMinutes: 60,
          pollSeconds: 30,
        });

        for (const [watch, field] of [
          [{ enabled: true, debounceMs: -5 }, 'body.watch.debounceMs'],
          [{ enabled: true, debounceMs: 1.5 }, 'body.watch.debounceMs'],
          [{ enabled: true, rescanMinutes: 0 }, 'body.watch.rescanMinutes'],
          [{ enabled: true, pollSeconds: 'often' }, 'body.watch.pollSeconds'],
          [{ enabled: 'yes' }, 'body.watch.enabled'],
          [{ debounceMs: 500 }, 'body.watch.enabled'],
        ] as const) {
          const refused = await request('POST', '/api/v1/pairs', {
            name: 'x',
            source: local(source),
            destination: local(destination),
            watch,
          });
          expect(refused.status).toBe(400);
          expect(refused.body.message).toMatch(new RegExp(`^${field.replaceAll('.', '\\.')}`));
        }
        const badPatch = await request('PATCH', `/api/v1/pairs/${created.body.id}`, {
          watch: { pollSeconds: 1 },
        });
        expect(badPatch.status).toBe(400);
        expect(badPatch.body.message).toMatch(/^body\.watch\.pollSeconds/);
        const unknown = await request('PATCH', `/api/v1/pairs/${created.body.id}`, {
          watch: { interval: 5 },
        });
        expect(unknown.status).toBe(400);
        expect(unknown.body.message).toMatch(/^body\.watch/);
        expect((await request('GET', `/api/v1/pairs/${created.body.id}`)).body.watch.pollSeconds).toBe(30);
      });

      it('confines local paths to the allowed roots', async () => {
        const { source } = await server.folders('confined');
        const outside = await request('POST', '/api/v1/pairs', {
          name: 'x',
          source: local(source),
          destination: local('/etc'),
        });
        expect(outside.status).toBe(400);
        expect(outside.body.message).toMatch(/destination\.path.*outside the allowed roots/);
        expect(outside.body.issues).toEqual([
          { path: 'destination.path', message: expect.stringMatching(/outside/) },
        ]);
        const dotdot = await request('POST', '/api/v1/pairs', {
          name: 'x',
          source: local(`${server.root}/confined/../../escape`),
          destination: local(source),
        });
        expect(dotdot.status).toBe(400);
        expect(dotdot.body.message).toMatch(/source\.path.*\.\./);
        const relative = await request('POST', '/api/v1/pairs', {
          name: 'x',
          source: local('relative/path'),
          destination: local(source),
        });
        expect(relative.status).toBe(400);
        // A symlink inside the root that points outside is judged by its target.
        const link = join(server.root, 'confined', 'link-to-tmp');
        await symlink('/etc', link);
        const viaLink = await request('POST', '/api/v1/pairs', {
          name: 'x',
          source: local(source),
          destination: local(link),
        });
        expect(viaLink.status).toBe(400);
        const nested = await request('POST', '/api/v1/pairs', {
          name: 'x',
          source: local(source),
          destination: local(join(source, 'inside')),
        });
        expect(nested.status).toBe(400);
        expect(nested.body.message).toMatch(/inside each other/);
      });

      it('patches only the given fields and refuses a path outside the roots', async () => {
        const { source, destination } = await server.folders('patch');
        const pair = await server.createPair({
          name: 'before',
          source: local(source),
          destination: local(destination),
        });
        const patched = await request('PATCH', `/api/v1/pairs/${pair.id}`, {
          name: 'after',
          concurrency: { transfers: 2 },
          schedule: '0 3 * * *',
        });
        expect(patched.status).toBe(200);
        expect(patched.body).toMatchObject({
          name: 'after',
          concurrency: { transfers: 2, operations: 10 },
          schedule: '0 3 * * *',
          mode: 'TWO_WAY',
        });
        const outside = await request('PATCH', `/api/v1/pairs/${pair.id}`, { source: local('/usr') });
        expect(outside.status).toBe(400);
        const unknownField = await request('PATCH', `/api/v1/pairs/${pair.id}`, { colour: 'red' });
        expect(unknownField.status).toBe(400);
        const badCron = await request('PATCH', `/api/v1/pairs/${pair.id}`, { schedule: '99 99 * * *' });
        expect(badCron.status).toBe(400);
        expect(badCron.body.message).toMatch(/schedule/);
        expect((await request('PATCH', `/api/v1/pairs/${crypto.randomUUID()}`, { name: 'x' })).status).toBe(
          404,
        );
      });

      it('answers 404 for an unknown pair and 400 for an id that is not a UUID', async () => {
        expect((await request('GET', `/api/v1/pairs/${crypto.randomUUID()}`)).status).toBe(404);
        const bad = await request('GET', '/api/v1/pairs/not-an-id');
        expect(bad.status).toBe(400);
        expect(bad.body.message).toMatch(/^params\.id/);
        expect((await request('DELETE', `/api/v1/pairs/${crypto.randomUUID()}`)).status).toBe(404);
        expect((await request('POST', `/api/v1/pairs/${crypto.randomUUID()}/runs`, {})).status).toBe(404);
        expect((await request('GET', `/api/v1/pairs/${crypto.randomUUID()}/runs`)).status).toBe(404);
        expect((await request('GET', `/api/v1/pairs/${crypto.randomUUID()}/plan`)).status).toBe(404);
      });

      it('fires a cron schedule as runs triggered by the schedule, and stops when it is removed', async () => {
        const { source, destination } = await server.folders('scheduled');
        await writeFile(join(source, 'tick.txt'), 'tick');
        const pair = await server.createPair({
          name: 'cron',
          source: local(source),
          destination: local(destination),
        });
        const queued = server.nextEvent(
          (event) => event.type === 'run.queued' && event.run.pairId === pair.id,
        ) as Promise<Extract<BusEvent, { type: 'run.queued' }>>;
        // Six fields: every second.
        expect((await request('PATCH', `/api/v1/pairs/${pair.id}`, { schedule: '* * * * * *' })).status).toBe(
          200,
        );
        const { run } = await queued;
        expect(run.trigger).toBe('schedule');
        expect((await request('PATCH', `/api/v1/pairs/${pair.id}`, { schedule: null })).status).toBe(200);
        await eventually(async () => {
          const runs = (await request('GET', `/api/v1/pairs/${pair.id}/runs`)).body.items as Run[];
          return runs.every((item) => ['completed', 'failed', 'cancelled'].includes(item.status));
        });
        const settled = ((await request('GET', `/api/v1/pairs/${pair.id}/runs`)).body.items as Run[]).length;
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        expect(((await request('GET', `/api/v1/pairs/${pair.id}/runs`)).body.items as Run[]).length).toBe(
          settled,
        );
        expect(await readFile(join(destination, 'tick.txt'), 'utf8')).toBe('tick');
      });

      it('encrypts remote credentials at rest and never returns them', async () => {
        const body = {
          name: 'remote',
          source: {
            type: 'sftp',
            host: 'files.example.org',
            username: 'alice',
            password: 'hunter2',
            path: '/data',
          },
          destination: local((await server.folders('remote')).destination),
        };
        const response = await request('POST', '/api/v1/pairs', body);
        if (driver === 'postgres') {
          // With DATABASE_URL and no SYNCENGINE_SECRET_KEY there is no key to encrypt with.
          expect(response.status).toBe(400);
          expect(response.body.message).toMatch(/SYNCENGINE_SECRET_KEY/);
          return;
        }
        expect(response.status).toBe(201);
        expect(JSON.stringify(response.body)).not.toContain('hunter2');
        expect(response.body.source).toMatchObject({
          type: 'sftp',
          host: 'files.example.org',
          username: 'alice',
        });
        expect(response.body.source.password).toBeUndefined();
        const stored = await server.runtime.repos.pairs.get(response.body.id);
        expect(String(stored?.source.password)).toMatch(/^enc:v1:/);
        // A change that leaves the password out keeps the stored one.
        const patched = await request('PATCH', `/api/v1/pairs/${response.body.id}`, {
          source: { type: 'sftp', host: 'files.example.org', username: 'bob', path: '/data' },
        });
        expect(patched.status).toBe(200);
        const restored = await server.runtime.repos.pairs.get(response.body.id);
        expect(String(restored?.source.password)).toMatch(/^enc:v1:/);
        expect(restored?.source.username).toBe('bob');
      });

      it('answers when an enabled schedule fires next, and null without one or while disabled', async () => {
        const { source, destination } = await server.folders('next-run');
        const pair = await server.createPair({
          name: 'next',
          source: local(source),
          destination: local(destination),
          schedule: '0 3 * * *',
        });
        const expected = nextScheduledRun('0 3 * * *').toISOString();
        expect(pair.nextRunAt).toBe(expected);
        expect(Date.parse(pair.nextRunAt!)).toBeGreaterThan(Date.now());
        const listed = (await request('GET', '/api/v1/pairs')).body.items.find(
          (item: Pair) => item.id === pair.id,
        );
        expect(listed.nextRunAt).toBe(expected);
        const disabled = await request('PATCH', `/api/v1/pairs/${pair.id}`, { enabled: false });
        expect(disabled.body.nextRunAt).toBeNull();
        const enabled = await request('PATCH', `/api/v1/pairs/${pair.id}`, {
          enabled: true,
          schedule: '*/5 * * * *',
        });
        expect(enabled.body.nextRunAt).toBe(nextScheduledRun('*/5 * * * *').toISOString());
        const unscheduled = await request('PATCH', `/api/v1/pairs/${pair.id}`, { schedule: null });
        expect(unscheduled.body.nextRunAt).toBeNull();
        expect((await request('GET', `/api/v1/pairs/${pair.id}`)).body.nextRunAt).toBeNull();
      });

      it('answers a local location with no stored secrets', async () => {
        const { source, destination } = await server.folders('no-secrets');
        const pair = await server.createPair({
          name: 'plain',
          source: local(source),
          destination: local(destination),
        });
        expect(pair.source).toEqual({ type: 'local', path: source, secretsSet: [] });
        expect((await request('GET', `/api/v1/pairs/${pair.id}`)).body.destination).toEqual({
          type: 'local',
          path: destination,
          secretsSet: [],
        });
      });

      it('tags the list with an ETag: 304 without a body while it reads the same, the new list after a change', async () => {
        const { source, destination } = await server.folders('etag');
        const pair = await server.createPair({
          name: 'tagged',
          source: local(source),
          destination: local(destination),
        });
        const first = await request('GET', '/api/v1/pairs');
        const etag = String(first.headers.etag);
        expect(etag).toMatch(/^"[\w-]+"$/);
        expect(first.headers['cache-control']).toBe('private, no-cache');

        const unchanged = await request('GET', '/api/v1/pairs', undefined, {
          'if-none-match': `"other", W/${etag}`,
        });
        expect(unchanged.status).toBe(304);
        expect(unchanged.body).toBeNull();
        expect(unchanged.headers.etag).toBe(etag);
        // The tag answers nobody who is not signed in.
        const outsider = await server.runtime.app.inject({
          method: 'GET',
          url: '/api/v1/pairs',
          headers: { 'if-none-match': etag },
        });
        expect(outsider.statusCode).toBe(401);

        await request('PATCH', `/api/v1/pairs/${pair.id}`, { name: 'renamed' });
        const changed = await request('GET', '/api/v1/pairs', undefined, { 'if-none-match': etag });
        expect(changed.status).toBe(200);
        expect(changed.headers.etag).not.toBe(etag);
        expect(changed.body.items.find((listed: Pair) => listed.id === pair.id).name).toBe('renamed');
      });

      it('deletes a pair', async () => {
        const { source, destination } = await server.folders('delete');
        const pair = await server.createPair({
          name: 'gone',
          source: local(source),
          destination: local(destination),
        });
        expect((await request('DELETE', `/api/v1/pairs/${pair.id}`)).status).toBe(204);
        expect((await request('GET', `/api/v1/pairs/${pair.id}`)).status).toBe(404);
      });
    });

    describe('runs', () => {
      it('syncs real folders through the API and records stats and the action log', async () => {
        const { source, destination } = await server.folders('full-run');
        await writeFile(join(source, 'a.txt'), 'alpha');
        await writeFile(join(source, 'b.txt'), 'bravo!');
        await writeFile(join(destination, 'c.txt'), 'charlie');
        const pair = await server.createPair({
          name: 'full',
          source: local(source),
          destination: local(destination),
        });

        const preview = await request('GET', `/api/v1/pairs/${pair.id}/plan`);
        expect(preview.status).toBe(200);
        expect(preview.body.isFirstSync).toBe(true);
        expect(
          preview.body.actions
            .map((action: { type: string; path: string }) => `${action.type} ${action.path}`)
            .sort(),
        ).toEqual(['DOWNLOAD_NEW c.txt', 'UPLOAD_NEW a.txt', 'UPLOAD_NEW b.txt']);
        await expect(stat(join(destination, 'a.txt'))).rejects.toThrow();

        // A bare POST (no body, no content type) starts a normal run.
        const bare = await server.runtime.app.inject({
          method: 'POST',
          url: `/api/v1/pairs/${pair.id}/runs`,
          headers: { cookie: server.cookie },
        });
        expect(bare.statusCode).toBe(202);
        const run = await eventually(async () => {
          const current = (await request('GET', `/api/v1/runs/${bare.json().id}`)).body as Run;
          return current.status === 'completed' || current.status === 'failed' ? current : null;
        });
        expect(run).toMatchObject({ status: 'completed', trigger: 'manual', dryRun: false, error: null });
        expect(run.stats).toMatchObject({
          actions: { UPLOAD_NEW: 2, DOWNLOAD_NEW: 1 },
          bytesUploaded: 11,
          bytesDownloaded: 7,
        });
        expect(run.startedAt).not.toBeNull();
        expect(run.finishedAt).not.toBeNull();
        expect(await readFile(join(destination, 'a.txt'), 'utf8')).toBe('alpha');
        expect(await readFile(join(destination, 'b.txt'), 'utf8')).toBe('bravo!');
        expect(await readFile(join(source, 'c.txt'), 'utf8')).toBe('charlie');

        const first = await request('GET', `/api/v1/runs/${run.id}/actions?limit=2`);
        expect(first.status).toBe(200);
        expect(first.body.items).toHaveLength(2);
        expect(first.body.nextCursor).not.toBeNull();
        const second = await request(
          'GET',
          `/api/v1/runs/${run.id}/actions?limit=2&cursor=${first.body.nextCursor}`,
        );
        expect(second.body.items).toHaveLength(1);
        expect(second.body.nextCursor).toBeNull();
        const logged = [...first.body.items, ...second.body.items].map(
          (action: { path: string; status: string }) => `${action.path}:${action.status}`,
        );
        expect(logged.sort()).toEqual(['a.txt:done', 'b.txt:done', 'c.txt:done']);

        const runs = await request('GET', `/api/v1/pairs/${pair.id}/runs`);
        expect(runs.body.items.map((item: Run) => item.id)).toEqual([run.id]);
        expect((await request('GET', `/api/v1/pairs/${pair.id}`)).body.lastRun).toMatchObject({
          id: run.id,
          status: 'completed',
        });

        // A second run finds nothing to do; a change at the destination comes back.
        await writeFile(join(destination, 'b.txt'), 'bravo, edited at the destination');
        const next = await runToEnd(pair.id);
        expect(next.status).toBe('completed');
        expect(await readFile(join(source, 'b.txt'), 'utf8')).toBe('bravo, edited at the destination');
      });

      it('records a dry run as planned actions and changes nothing', async () => {
        const { source, destination } = await server.folders('dry-run');
        await writeFile(join(source, 'only-here.txt'), 'x');
        const pair = await server.createPair({
          name: 'dry',
          source: local(source),
          destination: local(destination),
        });
        const run = await runToEnd(pair.id, { dryRun: true });
        expect(run).toMatchObject({ status: 'completed', dryRun: true });
        await expect(stat(join(destination, 'only-here.txt'))).rejects.toThrow();
        const actions = await request('GET', `/api/v1/runs/${run.id}/actions`);
        expect(actions.body.items).toMatchObject([
          { type: 'UPLOAD_NEW', path: 'only-here.txt', status: 'planned' },
        ]);
      });

      it('logs folder actions as folders, planned and carried out, in the action log and the changes feed', async () => {
        const { source, destination } = await server.folders('folder-actions');
        await mkdir(join(source, 'album'));
        await writeFile(join(source, 'album', 'owl.txt'), 'hoot');
        const pair = await server.createPair({
          name: 'folder actions',
          source: local(source),
          destination: local(destination),
        });
        const shape = (items: { type: string; path: string; isDir: boolean; status: string }[]) =>
          items.map((item) => [item.type, item.path, item.isDir, item.status]);

        const dry = await runToEnd(pair.id, { dryRun: true });
        const planned = await request('GET', `/api/v1/runs/${dry.id}/actions`);
        expect(shape(planned.body.items)).toEqual([
          ['UPLOAD_NEW', 'album', true, 'planned'],
          ['UPLOAD_NEW', 'album/owl.txt', false, 'planned'],
        ]);

        const run = await runToEnd(pair.id);
        expect(run.status).toBe('completed');
        expect((await stat(join(destination, 'album'))).isDirectory()).toBe(true);
        const done = await request('GET', `/api/v1/runs/${run.id}/actions`);
        expect(shape(done.body.items)).toEqual([
          ['UPLOAD_NEW', 'album', true, 'done'],
          ['UPLOAD_NEW', 'album/owl.txt', false, 'done'],
        ]);
        const changes = await request('GET', '/api/v1/changes?limit=100');
        expect(
          shape(changes.body.items.filter((change: { runId: string }) => change.runId === run.id)).sort(),
        ).toEqual([
          ['UPLOAD_NEW', 'album', true, 'done'],
          ['UPLOAD_NEW', 'album/owl.txt', false, 'done'],
        ]);
      });

      it('fails a run whose folder has gone, with the reason', async () => {
        const { source, destination } = await server.folders('vanishing');
        const pair = await server.createPair({
          name: 'vanish',
          source: local(source),
          destination: local(destination),
        });
        await import('node:fs/promises').then((fs) => fs.rm(source, { recursive: true }));
        const run = await runToEnd(pair.id);
        expect(run.status).toBe('failed');
        expect(run.error).toBeTruthy();
      });

      it('answers 404 for unknown runs and 400 for a bad cursor', async () => {
        const id = crypto.randomUUID();
        expect((await request('GET', `/api/v1/runs/${id}`)).status).toBe(404);
        expect((await request('GET', `/api/v1/runs/${id}/actions`)).status).toBe(404);
        expect((await request('POST', `/api/v1/runs/${id}/pause`)).status).toBe(404);
        expect((await request('POST', `/api/v1/runs/${id}/resume`)).status).toBe(404);
        expect((await request('POST', `/api/v1/runs/${id}/cancel`)).status).toBe(404);
        const bad = await request('GET', `/api/v1/runs/${id}/actions?cursor=abc`);
        expect(bad.status).toBe(400);
        expect(bad.body.message).toMatch(/^querystring\.cursor/);
      });

      it('refuses to pause, resume or cancel a run that has ended', async () => {
        const { source, destination } = await server.folders('ended');
        const pair = await server.createPair({
          name: 'ended',
          source: local(source),
          destination: local(destination),
        });
        const run = await runToEnd(pair.id);
        expect((await request('POST', `/api/v1/runs/${run.id}/pause`)).status).toBe(409);
        expect((await request('POST', `/api/v1/runs/${run.id}/resume`)).status).toBe(409);
        expect((await request('POST', `/api/v1/runs/${run.id}/cancel`)).status).toBe(409);
      });
    });

    describe('manual conflicts', () => {
      async function conflictedPair(name: string) {
        const { source, destination } = await server.folders(name);
        await writeFile(join(source, 'report.txt'), 'source version');
        await writeFile(join(destination, 'report.txt'), 'destination version');
        await writeFile(join(source, 'other.txt'), 'no conflict here');
        const pair = await server.createPair({
          name,
          source: local(source),
          destination: local(destination),
          conflictResolution: 'MANUAL',
          comparisonMode: 'SIZE_ONLY',
        });
        return { pair, source, destination };
      }

      it('never holds a run: it carries out the rest, leaves the conflict pending and ends needing a decision', async () => {
        const { pair, source, destination } = await conflictedPair('manual-pending');
        const created = server.nextEvent(
          (event): event is Extract<BusEvent, { type: 'conflict.created' }> =>
            event.type === 'conflict.created' && event.conflict.pairId === pair.id,
        );
        const run = await runToEnd(pair.id);
        const { conflict } = await created;
        expect(conflict).toMatchObject({ path: 'report.txt', status: 'pending', runId: run.id });
        expect(conflict.source?.size).toBe('source version'.length);
        expect(conflict.destination?.size).toBe('destination version'.length);
        expect(run.status, run.error ?? '').toBe('needs_decision');
        expect(run.stats?.conflictsPending).toBe(1);
        // Everything else is done; the pending conflict changes neither side.
        expect(await readFile(join(destination, 'other.txt'), 'utf8')).toBe('no conflict here');
        expect(await readFile(join(destination, 'report.txt'), 'utf8')).toBe('destination version');
        expect(await readFile(join(source, 'report.txt'), 'utf8')).toBe('source version');
        const actions = await request('GET', `/api/v1/runs/${run.id}/actions`);
        expect(
          (actions.body.items as RunAction[]).map((action) => [action.type, action.path, action.status]),
        ).toEqual(
          expect.arrayContaining([
            ['CONFLICT', 'report.txt', 'pending'],
            ['UPLOAD_NEW', 'other.txt', 'done'],
          ]),
        );

        // The decision is applied at once by a small run, which says what it did.
        const followUp = server.nextEvent(
          (event) => event.type === 'run.queued' && event.run.pairId === pair.id,
        ) as Promise<Extract<BusEvent, { type: 'run.queued' }>>;
        const resolved = await request('POST', `/api/v1/conflicts/${conflict.id}/resolve`, {
          resolution: 'keep-both',
        });
        expect(resolved.status).toBe(200);
        expect(resolved.body).toMatchObject({
          status: 'resolved',
          resolution: 'keep-both',
          resolvedBy: 'admin',
        });
        const queued = await followUp;
        expect(queued.run.trigger).toBe('conflict-resolution');
        const applied = await eventually(async () => {
          const history = await request('GET', `/api/v1/conflicts?status=resolved&pairId=${pair.id}`);
          const item = (history.body.items as Conflict[]).find((candidate) => candidate.id === conflict.id);
          return item?.appliedAt ? item : null;
        });
        // Same sizes (SIZE_ONLY), same second: the destination's copy loses on a tie.
        expect(applied.outcome).toMatch(
          /^kept both; the (source|destination)'s copy is now report\.conflict-.+\.txt on both sides$/,
        );
        const renamed = /is now (\S+) on both sides/.exec(applied.outcome ?? '')![1]!;
        for (const root of [source, destination]) {
          expect(await readFile(join(root, 'report.txt'), 'utf8')).toMatch(/version$/);
          expect(await readFile(join(root, renamed), 'utf8')).toMatch(/version$/);
        }
        expect(await readFile(join(source, 'report.txt'), 'utf8')).toBe(
          await readFile(join(destination, 'report.txt'), 'utf8'),
        );
        const small = (await request('GET', `/api/v1/runs/${queued.run.id}`)).body as Run;
        expect(small).toMatchObject({
          status: 'completed',
          stats: { conflicts: 1, actions: { CONFLICT: 1 } },
        });

        const again = await request('POST', `/api/v1/conflicts/${conflict.id}/resolve`, {
          resolution: 'destination',
        });
        expect(again.status).toBe(409);
      });

      it('applies a decision taken after the run ended in a follow-up run', async () => {
        const { pair, source, destination } = await conflictedPair('manual-later');
        const run = await runToEnd(pair.id);
        expect(run.status).toBe('needs_decision');
        expect(run.stats?.conflictsPending).toBe(1);
        expect(await readFile(join(destination, 'other.txt'), 'utf8')).toBe('no conflict here');
        expect(await readFile(join(destination, 'report.txt'), 'utf8')).toBe('destination version');
        const pending = await request('GET', `/api/v1/conflicts?status=pending&pairId=${pair.id}`);
        expect(pending.body.items).toHaveLength(1);
        const conflict = pending.body.items[0] as Conflict;

        const followUp = server.nextEvent(
          (event) => event.type === 'run.queued' && event.run.pairId === pair.id,
        ) as Promise<Extract<BusEvent, { type: 'run.queued' }>>;
        const resolved = await request('POST', `/api/v1/conflicts/${conflict.id}/resolve`, {
          resolution: 'destination',
        });
        expect(resolved.status).toBe(200);
        const queued = await followUp;
        expect(queued.run.trigger).toBe('conflict-resolution');
        const ended = await eventually(async () => {
          const current = (await request('GET', `/api/v1/runs/${queued.run.id}`)).body as Run;
          return current.status === 'completed' ? current : null;
        });
        expect(ended.stats?.conflicts).toBe(1);
        expect(await readFile(join(source, 'report.txt'), 'utf8')).toBe('destination version');
        expect(await readFile(join(destination, 'report.txt'), 'utf8')).toBe('destination version');
        const remaining = await request('GET', `/api/v1/conflicts?status=pending&pairId=${pair.id}`);
        expect(remaining.body.items).toHaveLength(0);
      });

      it('closes, with the end of a run that no longer meets it, a conflict someone settled by hand', async () => {
        const { pair, destination } = await conflictedPair('manual-settled');
        const first = await runToEnd(pair.id);
        expect(first.status).toBe('needs_decision');
        const pending = await request('GET', `/api/v1/conflicts?status=pending&pairId=${pair.id}`);
        const conflict = (pending.body.items as Conflict[])[0]!;
        // Both sides agree now: the next run meets no conflict there.
        await writeFile(join(destination, 'report.txt'), 'source version');
        const closedEvent = server.nextEvent(
          (event): event is Extract<BusEvent, { type: 'conflict.resolved' }> =>
            event.type === 'conflict.resolved' && event.conflict.id === conflict.id,
        );
        const next = await runToEnd(pair.id);
        expect(next.status, next.error ?? '').toBe('completed');
        const { conflict: closed } = await closedEvent;
        expect(closed).toMatchObject({ status: 'resolved', resolvedBy: 'sync', resolution: null });
        expect(closed.appliedAt).toBe(next.finishedAt);
        const history = await request('GET', `/api/v1/conflicts?status=resolved&pairId=${pair.id}`);
        expect(history.body.items).toEqual([closed]);
      });

      it('pauses, resumes and cancels a live run', async () => {
        const { source, destination } = await server.folders('live-control');
        // Larger than the small files copied in groups: it goes through the held write.
        await writeFile(join(source, 'held-file.txt'), 'x'.repeat(200_000));
        const pair = await server.createPair({
          name: 'live-control',
          source: local(source),
          destination: local(destination),
        });
        const started = await request('POST', `/api/v1/pairs/${pair.id}/runs`, {});
        const runId = (started.body as Run).id;
        await eventually(
          async () => ((await request('GET', `/api/v1/runs/${runId}`)).body as Run).status === 'running',
        );
        const paused = await request('POST', `/api/v1/runs/${runId}/pause`);
        expect(paused.status).toBe(202);
        expect(paused.body.status).toBe('paused');
        expect((await request('POST', `/api/v1/runs/${runId}/pause`)).body.status).toBe('paused');
        const resumed = await request('POST', `/api/v1/runs/${runId}/resume`);
        expect(resumed.body.status).toBe('running');
        const ended = server.nextEvent(isRunEnd(runId));
        expect((await request('POST', `/api/v1/runs/${runId}/cancel`)).status).toBe(202);
        releaseHeld();
        held = Promise.resolve();
        expect((await ended).type).toBe('run.cancelled');
        expect((await request('GET', `/api/v1/runs/${runId}`)).body.status).toBe('cancelled');
      });

      it('answers 404 for an unknown conflict and 400 for an unknown resolution', async () => {
        const id = crypto.randomUUID();
        expect(
          (await request('POST', `/api/v1/conflicts/${id}/resolve`, { resolution: 'source' })).status,
        ).toBe(404);
        const bad = await request('POST', `/api/v1/conflicts/${id}/resolve`, { resolution: 'mine' });
        expect(bad.status).toBe(400);
        expect(bad.body.message).toMatch(/^body\.resolution/);
        expect((await request('GET', '/api/v1/conflicts?status=open')).status).toBe(400);
      });

      it('refuses to delete a pair while its run is active', async () => {
        const { pair } = await conflictedPair('manual-delete');
        const created = server.nextEvent(
          (event) => event.type === 'conflict.created' && event.conflict.pairId === pair.id,
        );
        const started = await request('POST', `/api/v1/pairs/${pair.id}/runs`, {});
        await created;
        const refused = await request('DELETE', `/api/v1/pairs/${pair.id}`);
        expect(refused.status).toBe(409);
        const ended = server.nextEvent(isRunEnd((started.body as Run).id));
        await request('POST', `/api/v1/runs/${(started.body as Run).id}/cancel`);
        await ended;
        expect((await request('DELETE', `/api/v1/pairs/${pair.id}`)).status).toBe(204);
      });
    });

    describe('action log filters', () => {
      /** A finished run of a new pair with these actions in its log, in this order. */
      async function runWithLog(name: string, actions: Array<Pick<RunAction, 'type' | 'path' | 'status'>>) {
        const { source, destination } = await server.folders(name);
        const pair = await server.createPair({
          name,
          source: local(source),
          destination: local(destination),
        });
        const { repos } = server.runtime;
        const run = await repos.runs.createQueued({
          pairId: pair.id,
          trigger: 'manual',
          dryRun: false,
          force: false,
        });
        await repos.runs.transition(run!.id, ['queued'], 'completed', { finishedAt: new Date() });
        await repos.runActions.insertMany(
          run!.id,
          actions.map((action) => ({
            ...action,
            to: null,
            isDir: false,
            reason: 'test',
            bytes: 1,
            error: action.status === 'failed' ? 'disk full' : null,
          })),
        );
        return run!.id;
      }
      const pathsOf = (body: { items: RunAction[] }) => body.items.map((action) => action.path);
      const log: Array<Pick<RunAction, 'type' | 'path' | 'status'>> = [
        { type: 'UPLOAD_NEW', path: 'docs/Report.TXT', status: 'done' },
        { type: 'UPLOAD_NEW', path: 'docs/notes.md', status: 'failed' },
        { type: 'DOWNLOAD_NEW', path: 'photos/report-2.jpg', status: 'done' },
        { type: 'DELETE_DESTINATION', path: 'old/100%_report.txt', status: 'done' },
        { type: 'DELETE_SOURCE', path: 'old/100x-report.txt', status: 'failed' },
        { type: 'CONFLICT', path: 'docs/report.txt', status: 'done' },
      ];

      it('filters by action type, repeated or comma-separated', async () => {
        const runId = await runWithLog('filter-type', log);
        const one = await request('GET', `/api/v1/runs/${runId}/actions?type=UPLOAD_NEW`);
        expect(one.status).toBe(200);
        expect(pathsOf(one.body)).toEqual(['docs/Report.TXT', 'docs/notes.md']);
        const comma = await request('GET', `/api/v1/runs/${runId}/actions?type=DELETE_SOURCE,DOWNLOAD_NEW`);
        expect(pathsOf(comma.body)).toEqual(['photos/report-2.jpg', 'old/100x-report.txt']);
        const repeated = await request(
          'GET',
          `/api/v1/runs/${runId}/actions?type=CONFLICT&type=DELETE_DESTINATION`,
        );
        expect(pathsOf(repeated.body)).toEqual(['old/100%_report.txt', 'docs/report.txt']);
      });

      it('filters by status and by a path substring ignoring case, all filters together', async () => {
        const runId = await runWithLog('filter-status', log);
        const failed = await request('GET', `/api/v1/runs/${runId}/actions?status=failed`);
        expect(pathsOf(failed.body)).toEqual(['docs/notes.md', 'old/100x-report.txt']);
        expect(failed.body.items.every((action: RunAction) => action.error === 'disk full')).toBe(true);
        const report = await request('GET', `/api/v1/runs/${runId}/actions?path=REPORT`);
        expect(pathsOf(report.body)).toEqual([
          'docs/Report.TXT',
          'photos/report-2.jpg',
          'old/100%_report.txt',
          'old/100x-report.txt',
          'docs/report.txt',
        ]);
        // `%` and `_` are matched as themselves, not as wildcards.
        const literal = await request(
          'GET',
          `/api/v1/runs/${runId}/actions?path=${encodeURIComponent('100%_')}`,
        );
        expect(pathsOf(literal.body)).toEqual(['old/100%_report.txt']);
        const combined = await request(
          'GET',
          `/api/v1/runs/${runId}/actions?path=docs/&status=done&type=UPLOAD_NEW,CONFLICT`,
        );
        expect(pathsOf(combined.body)).toEqual(['docs/Report.TXT', 'docs/report.txt']);
        const none = await request('GET', `/api/v1/runs/${runId}/actions?path=nothing-like-this`);
        expect(none.body).toEqual({ items: [], nextCursor: null });
      });

      it('pages through filtered actions with the cursor', async () => {
        const runId = await runWithLog('filter-pages', log);
        const seen: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const query: string = `status=done&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
          const page = await request('GET', `/api/v1/runs/${runId}/actions?${query}`);
          expect(page.status).toBe(200);
          expect(page.body.items.length).toBeLessThanOrEqual(2);
          seen.push(...pathsOf(page.body));
          cursor = page.body.nextCursor;
          pages += 1;
        } while (cursor && pages < 10);
        expect(pages).toBe(2);
        expect(seen).toEqual([
          'docs/Report.TXT',
          'photos/report-2.jpg',
          'old/100%_report.txt',
          'docs/report.txt',
        ]);
      });

      it('names the parameter with a value it does not accept', async () => {
        const runId = await runWithLog('filter-invalid', log);
        const type = await request('GET', `/api/v1/runs/${runId}/actions?type=UPLOAD_NEW,FLY_AWAY`);
        expect(type.status).toBe(400);
        expect(type.body.message).toMatch(/^querystring\.type/);
        const status = await request('GET', `/api/v1/runs/${runId}/actions?status=ok`);
        expect(status.status).toBe(400);
        expect(status.body.message).toMatch(/^querystring\.status/);
        const path = await request('GET', `/api/v1/runs/${runId}/actions?path=`);
        expect(path.status).toBe(400);
        expect(path.body.message).toMatch(/^querystring\.path/);
      });
    });

    describe('a run paused when its executor stopped', () => {
      it('starts again paused, copies nothing until resumed, then completes', async () => {
        const { source, destination } = await server.folders('paused-crash');
        await writeFile(join(source, 'waiting.txt'), 'held back');
        const pair = await server.createPair({
          name: 'paused-crash',
          source: local(source),
          destination: local(destination),
        });
        const { repos, queue } = server.runtime;
        // As a dead worker leaves it: started, then paused, never finished.
        const queued = await repos.runs.createQueued({
          pairId: pair.id,
          trigger: 'manual',
          dryRun: false,
          force: false,
        });
        await repos.runs.transition(queued!.id, ['queued'], 'running', { startedAt: new Date() });
        await repos.runs.transition(queued!.id, ['running'], 'paused');
        const started = server.nextEvent(
          (event): event is Extract<BusEvent, { type: 'run.started' }> =>
            event.type === 'run.started' && event.run.id === queued!.id,
        );
        await queue.enqueue('sync-run', { runId: queued!.id, pairId: pair.id }, { jobId: queued!.id });
        expect((await started).run.status).toBe('paused');
        // Long enough for the whole sync of one small file had the run not waited.
        await new Promise((resolve) => setTimeout(resolve, 500));
        expect((await request('GET', `/api/v1/runs/${queued!.id}`)).body.status).toBe('paused');
        await expect(stat(join(destination, 'waiting.txt'))).rejects.toThrow();

        const ended = server.nextEvent(isRunEnd(queued!.id));
        const resumed = await request('POST', `/api/v1/runs/${queued!.id}/resume`);
        expect(resumed.status).toBe(202);
        expect(resumed.body.status).toBe('running');
        expect((await ended).type).toBe('run.completed');
        expect(await readFile(join(destination, 'waiting.txt'), 'utf8')).toBe('held back');
      });
    });

    describe('conflict previews', () => {
      const entry = (path: string, size: number): EntryMetadata => ({
        path,
        size,
        mtime: Date.now(),
        isDir: false,
      });
      /** A pending conflict on `path` recorded for a new pair, as a run records one. */
      async function conflictOn(
        name: string,
        path: string,
        sides: { source?: string | Buffer; destination?: string | Buffer },
      ) {
        const folders = await server.folders(name);
        for (const side of ['source', 'destination'] as const) {
          const content = sides[side];
          if (content !== undefined) await writeFile(join(folders[side], path), content);
        }
        const pair = await server.createPair({
          name,
          source: local(folders.source),
          destination: local(folders.destination),
          conflictResolution: 'MANUAL',
        });
        const [row] = await server.runtime.database.db
          .insert(schema.conflicts)
          .values({
            pairId: pair.id,
            path,
            source: sides.source === undefined ? null : { ...entry(path, sides.source.length) },
            destination:
              sides.destination === undefined ? null : { ...entry(path, sides.destination.length) },
            status: 'pending',
          })
          .returning();
        return { conflictId: row!.id, ...folders };
      }
      const preview = (id: string, side: string) =>
        request('GET', `/api/v1/conflicts/${id}/preview?side=${side}`);

      it("returns the text of each side's version", async () => {
        const { conflictId } = await conflictOn('preview-text', 'notes.txt', {
          source: 'the source says hello\n',
          destination: 'la destination dit « bonjour » ✓\n',
        });
        const source = await preview(conflictId, 'source');
        expect(source.status).toBe(200);
        expect(source.body).toEqual({ isText: true, text: 'the source says hello\n', truncated: false });
        expect((await preview(conflictId, 'destination')).body).toEqual({
          isText: true,
          text: 'la destination dit « bonjour » ✓\n',
          truncated: false,
        });
      });

      it('reads at most the first 64 KiB, and calls a file with NUL bytes or invalid UTF-8 binary', async () => {
        const long = `${'0123456789abcdef'.repeat(4_096)}and more after 64 KiB`;
        const { conflictId } = await conflictOn('preview-long', 'data.bin', {
          source: long,
          destination: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0x1a]),
        });
        const source = await preview(conflictId, 'source');
        expect(source.body.isText).toBe(true);
        expect(source.body.truncated).toBe(true);
        expect(source.body.text).toBe(long.slice(0, 64 * 1024));
        expect((await preview(conflictId, 'destination')).body).toEqual({
          isText: false,
          text: null,
          truncated: false,
        });
        const latin1 = await conflictOn('preview-latin1', 'old.txt', {
          source: Buffer.from('caf\xe9', 'latin1'),
          destination: 'exactly',
        });
        expect((await preview(latin1.conflictId, 'source')).body).toEqual({
          isText: false,
          text: null,
          truncated: false,
        });
      });

      it('answers 404 when the conflict, or the file on that side, is gone', async () => {
        expect((await preview(crypto.randomUUID(), 'source')).status).toBe(404);
        const { conflictId, destination } = await conflictOn('preview-gone', 'gone.txt', {
          source: 'kept',
          destination: 'removed later',
        });
        await import('node:fs/promises').then((fs) => fs.rm(join(destination, 'gone.txt')));
        const gone = await preview(conflictId, 'destination');
        expect(gone.status).toBe(404);
        expect(gone.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
        expect((await preview(conflictId, 'source')).status).toBe(200);
        const deleted = await conflictOn('preview-deleted', 'one-sided.txt', { source: 'only here' });
        expect((await preview(deleted.conflictId, 'destination')).status).toBe(404);
      });

      it('names a side it does not know', async () => {
        const response = await preview(crypto.randomUUID(), 'left');
        expect(response.status).toBe(400);
        expect(response.body.message).toMatch(/^querystring\.side/);
      });

      it('never reads outside the location root, whatever path the conflict row holds', async () => {
        // Writing "source" at this path puts the file next to the source folder, not in it.
        const { conflictId } = await conflictOn('preview-escape', '../outside.txt', {
          source: 'secret next to the root',
        });
        const response = await preview(conflictId, 'source');
        expect(response.status).toBe(422);
        expect(JSON.stringify(response.body)).not.toContain('secret next to the root');
      });

      const image = async (id: string, side: string) => {
        const response = await server.runtime.app.inject({
          method: 'GET',
          url: `/api/v1/conflicts/${id}/image?side=${side}`,
          headers: { cookie: server.cookie },
        });
        return { status: response.statusCode, headers: response.headers, bytes: response.rawPayload };
      };
      /** The start of a PNG file, then some bytes: enough for the type, and told apart by content. */
      const png = (tail: string) =>
        Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from(tail)]);

      it("serves each side's version of an image with its type, never to be run as a page", async () => {
        const { conflictId } = await conflictOn('image-sides', 'Photo.PNG', {
          source: png('source pixels'),
          destination: png('destination pixels, more of them'),
        });
        for (const side of ['source', 'destination'] as const) {
          const answer = await image(conflictId, side);
          expect(answer.status).toBe(200);
          expect(answer.headers['content-type']).toBe('image/png');
          expect(answer.headers['x-content-type-options']).toBe('nosniff');
          expect(String(answer.headers['content-security-policy'])).toContain('sandbox');
          expect(
            answer.bytes.equals(png(`${side} pixels${side === 'destination' ? ', more of them' : ''}`)),
          ).toBe(true);
        }
      });

      it('refuses a file that is no image by its name, or one too large for a thumbnail (422), and a gone file (404)', async () => {
        const text = await conflictOn('image-text', 'notes.txt', {
          source: 'words',
          destination: 'other words',
        });
        const notImage = await image(text.conflictId, 'source');
        expect(notImage.status).toBe(422);
        expect(notImage.bytes.toString()).toContain('is not an image');

        const big = await conflictOn('image-big', 'huge.jpg', {
          source: Buffer.alloc(10 * 1024 * 1024 + 1, 1),
          destination: Buffer.from('small'),
        });
        const tooLarge = await image(big.conflictId, 'source');
        expect(tooLarge.status).toBe(422);
        expect(tooLarge.bytes.toString()).toContain('10 MiB');
        expect((await image(big.conflictId, 'destination')).status).toBe(200);

        const gone = await conflictOn('image-gone', 'gone.gif', { source: 'GIF89a' });
        expect((await image(gone.conflictId, 'destination')).status).toBe(404);
        expect((await image(crypto.randomUUID(), 'source')).status).toBe(404);
        const badSide = await image(gone.conflictId, 'left');
        expect(badSide.status).toBe(400);
        expect(badSide.bytes.toString()).toContain('querystring.side');
      });

      it('never serves an image from outside the location root, whatever path the conflict row holds', async () => {
        const { conflictId } = await conflictOn('image-escape', '../outside.png', {
          source: png('secret next to the root'),
        });
        const response = await image(conflictId, 'source');
        expect(response.status).toBe(422);
        expect(response.bytes.toString()).not.toContain('secret next to the root');
      });
    });

    describe('stored credentials', () => {
      const secretKey = 'a test key that is long enough to use';
      let keyed: TestServer;
      beforeAll(async () => {
        keyed = await startTestServer({ driver, secretKey });
      });
      afterAll(async () => {
        await keyed?.close();
      });
      const send = async (method: Method, url: string, payload?: unknown) => {
        const response = await keyed.runtime.app.inject({
          method,
          url,
          headers: { cookie: keyed.cookie },
          ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
        });
        return { status: response.statusCode, body: response.json(), text: response.body };
      };
      const opened = async (pairId: string) => {
        const stored = await keyed.runtime.repos.pairs.get(pairId);
        return createSecretBox(secretKey).open(stored!.source);
      };

      it('keeps a stored password through edits that leave it out, and never answers it', async () => {
        const password = 'hunter2-never-shown';
        const events: BusEvent[] = [];
        const stop = keyed.runtime.bus.subscribe((event) => events.push(event));
        const answers: string[] = [];
        const dav = { type: 'webdav', url: 'https://dav.example.org/files', username: 'alice' };
        const { destination } = await keyed.folders('credentials');
        const created = await send('POST', '/api/v1/pairs', {
          name: 'dav',
          source: { ...dav, password },
          destination: local(destination),
        });
        answers.push(created.text);
        expect(created.status).toBe(201);
        expect(created.body.source).toEqual({ ...dav, secretsSet: ['password'] });
        const id = created.body.id as string;
        const stored = await keyed.runtime.repos.pairs.get(id);
        expect(String(stored?.source.password)).toMatch(/^enc:v1:/);

        const fetched = await send('GET', `/api/v1/pairs/${id}`);
        answers.push(fetched.text);
        expect(fetched.body.source.secretsSet).toEqual(['password']);
        const list = await send('GET', '/api/v1/pairs');
        answers.push(list.text);
        expect(list.body.items.find((pair: Pair) => pair.id === id).source.secretsSet).toEqual(['password']);

        // The form sends the location back as it got it, secretsSet included, password left out.
        const edited = await send('PATCH', `/api/v1/pairs/${id}`, {
          source: { ...fetched.body.source, username: 'bob' },
        });
        answers.push(edited.text);
        expect(edited.status).toBe(200);
        expect(edited.body.source).toEqual({ ...dav, username: 'bob', secretsSet: ['password'] });
        expect(await opened(id)).toMatchObject({ type: 'webdav', username: 'bob', password });
        const renamed = await send('PATCH', `/api/v1/pairs/${id}`, { name: 'renamed' });
        answers.push(renamed.text);
        expect(await opened(id)).toMatchObject({ password });

        const changed = await send('PATCH', `/api/v1/pairs/${id}`, {
          source: { ...dav, password: 'new-secret' },
        });
        answers.push(changed.text);
        expect(await opened(id)).toMatchObject({ password: 'new-secret' });

        // Another type of location starts without the old secrets.
        const sftp = { type: 'sftp', host: 'files.example.org', username: 'alice', path: '/data' };
        const retyped = await send('PATCH', `/api/v1/pairs/${id}`, { source: sftp });
        answers.push(retyped.text);
        expect(retyped.body.source).toEqual({ ...sftp, port: 22, secretsSet: [] });
        const afterRetype = await opened(id);
        expect(afterRetype).not.toHaveProperty('password');
        expect(afterRetype).toMatchObject({ type: 'sftp', host: 'files.example.org' });
        stop();

        for (const text of [...answers, ...events.map((event) => JSON.stringify(event))]) {
          expect(text).not.toContain(password);
          expect(text).not.toContain('new-secret');
          expect(text).not.toContain('enc:v1:');
        }
        expect(events.filter((event) => event.type === 'pair.updated')).toHaveLength(5);
      });
    });

    describe('WebSocket', () => {
      let baseUrl: string;
      beforeAll(async () => {
        const address = await server.runtime.app.listen({ port: 0, host: '127.0.0.1' });
        baseUrl = address.replace(/^http/, 'ws');
      });

      function connect(headers: Record<string, string>) {
        const socket = new WebSocket(`${baseUrl}/api/v1/ws`, { headers });
        const messages: WsEvent[] = [];
        const waiters: Array<() => void> = [];
        socket.on('message', (data) => {
          messages.push(JSON.parse(String(data)) as WsEvent);
          for (const wake of waiters.splice(0)) wake();
        });
        const waitFor = async (match: (event: WsEvent) => boolean, timeoutMs = 15_000) => {
          const deadline = Date.now() + timeoutMs;
          for (;;) {
            const found = messages.find(match);
            if (found) return found;
            if (Date.now() > deadline) throw new Error('no such WebSocket message');
            await new Promise<void>((resolve) => {
              waiters.push(resolve);
              setTimeout(resolve, 100);
            });
          }
        };
        return { socket, messages, waitFor };
      }

      it('refuses an unauthenticated connection', async () => {
        const socket = new WebSocket(`${baseUrl}/api/v1/ws`);
        const status = await new Promise<number>((resolve) => {
          socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
          socket.on('open', () => resolve(101));
        });
        expect(status).toBe(401);
      });

      it('refuses a cookie-authenticated connection from another origin, even on the same host', async () => {
        const own = new URL(baseUrl.replace(/^ws/, 'http'));
        const otherPort = `http://${own.hostname}:${Number(own.port) === 5173 ? 5174 : 5173}`;
        for (const origin of ['https://evil.example', otherPort, `https://${own.host}`]) {
          const socket = new WebSocket(`${baseUrl}/api/v1/ws`, {
            headers: { cookie: server.cookie, origin },
          });
          const status = await new Promise<number>((resolve) => {
            socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
            socket.on('open', () => resolve(101));
          });
          socket.on('error', () => {});
          socket.terminate();
          expect(status, origin).toBe(403);
        }
        const sameOrigin = new WebSocket(`${baseUrl}/api/v1/ws`, {
          headers: { cookie: server.cookie, origin: own.origin },
        });
        await new Promise((resolve, reject) => {
          sameOrigin.once('open', resolve);
          sameOrigin.once('unexpected-response', () => reject(new Error('same-origin connection refused')));
        });
        sameOrigin.close();
      });

      it('sends a snapshot, then the events of a run, to a client authenticated by bearer token', async () => {
        const token = (await request('POST', '/api/v1/tokens', { name: 'ws' })).body.token as string;
        const client = connect({ authorization: `Bearer ${token}` });
        const snapshot = await client.waitFor((event) => event.type === 'snapshot');
        expect(snapshot).toMatchObject({
          type: 'snapshot',
          activeRuns: expect.any(Array),
          pendingConflicts: expect.any(Array),
        });
        expect(client.messages[0]?.type).toBe('snapshot');

        const { source, destination } = await server.folders('ws-run');
        await writeFile(join(source, 'live.txt'), 'streamed');
        const pair = await server.createPair({
          name: 'ws',
          source: local(source),
          destination: local(destination),
        });
        await client.waitFor((event) => event.type === 'pair.updated' && event.pair.id === pair.id);
        const run = (await request('POST', `/api/v1/pairs/${pair.id}/runs`, {})).body as Run;
        const completed = await client.waitFor(
          (event) => event.type === 'run.completed' && event.run.id === run.id,
        );
        expect(completed).toMatchObject({ run: { status: 'completed' } });
        const types = client.messages
          .filter(
            (event) =>
              ('run' in event && event.run.id === run.id) || ('runId' in event && event.runId === run.id),
          )
          .map((event) => event.type);
        expect(types[0]).toBe('run.queued');
        expect(types).toContain('run.started');
        expect(types).toContain('run.action');
        expect(types).toContain('run.progress');
        expect(types.indexOf('run.started')).toBeLessThan(types.indexOf('run.completed'));
        const action = client.messages.find((event) => event.type === 'run.action' && event.runId === run.id);
        expect(action).toMatchObject({ action: { path: 'live.txt', type: 'UPLOAD_NEW', status: 'done' } });
        client.socket.close();
      });

      it('accepts the session cookie and includes active runs and pending conflicts in the snapshot', async () => {
        const { source, destination } = await server.folders('ws-snapshot');
        await writeFile(join(source, 'clash.txt'), 'one');
        await writeFile(join(destination, 'clash.txt'), 'three');
        const pair = await server.createPair({
          name: 'ws-snapshot',
          source: local(source),
          destination: local(destination),
          conflictResolution: 'MANUAL',
        });
        const ended = server.nextEvent(
          (event) => event.type === 'run.completed' && event.run.pairId === pair.id,
        );
        await request('POST', `/api/v1/pairs/${pair.id}/runs`, {});
        // MANUAL conflicts do not hold the run: it ends needing a decision.
        await ended;
        // A run that stays active while the snapshot is read: queued, never handed to a worker.
        const held = await server.runtime.repos.runs.createQueued({
          pairId: pair.id,
          trigger: 'manual',
          dryRun: false,
          force: false,
        });
        const client = connect({ cookie: server.cookie });
        const snapshot = (await client.waitFor((event) => event.type === 'snapshot')) as Extract<
          WsEvent,
          { type: 'snapshot' }
        >;
        expect(snapshot.activeRuns.map((active) => active.id)).toContain(held!.id);
        expect(snapshot.pendingConflicts.map((conflict) => conflict.pairId)).toContain(pair.id);
        const conflictId = snapshot.pendingConflicts.find((conflict) => conflict.pairId === pair.id)!.id;
        await server.runtime.repos.runs.transition(held!.id, ['queued'], 'cancelled', {
          finishedAt: new Date(),
        });
        await request('POST', `/api/v1/conflicts/${conflictId}/resolve`, { resolution: 'keep-both' });
        await client.waitFor(
          (event) => event.type === 'conflict.resolved' && event.conflict.id === conflictId,
        );
        client.socket.close();
      });
    });
  });
}
