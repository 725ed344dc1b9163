import { mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PairSyncStatus, Run } from '@syncengine/contracts';
import { canReachPostgres, requireService, TEST_DATABASE_URL } from '@syncengine/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/testing/test-server.js';

const hasPostgres = await requireService('Postgres', () => canReachPostgres(TEST_DATABASE_URL));

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** The routes the dashboard's overview, pair status and folder picker read, on Postgres. */
describe.skipIf(!hasPostgres)('dashboard routes on Postgres', () => {
  let server: TestServer;
  const request = async (method: Method, url: string, payload?: unknown, cookie?: string | null) => {
    const response = await server.runtime.app.inject({
      method,
      url,
      headers: cookie === null ? {} : { cookie: cookie ?? server.cookie },
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
    return { status: response.statusCode, body: response.body ? response.json() : null };
  };
  const local = (path: string) => ({ type: 'local', path });

  beforeAll(async () => {
    server = await startTestServer({ driver: 'postgres' });
  });
  afterAll(async () => {
    await server?.close();
  });

  describe('POST /pairs/:id/runs?wait=true', () => {
    it('answers 200 once the run has ended, with the files already copied', async () => {
      const folders = await server.folders('wait');
      await writeFile(join(folders.source, 'hello.txt'), 'hello');
      const pair = await server.createPair({
        name: 'wait',
        source: local(folders.source),
        destination: local(folders.destination),
      });
      const answer = await request('POST', `/api/v1/pairs/${pair.id}/runs?wait=true`, {});
      expect(answer.status).toBe(200);
      const run = answer.body as Run;
      expect(run.status).toBe('completed');
      expect(run.stats?.actions.UPLOAD_NEW).toBe(1);
      expect(await readFile(join(folders.destination, 'hello.txt'), 'utf8')).toBe('hello');
    });

    it('still answers 202 with the queued run without wait', async () => {
      const folders = await server.folders('nowait');
      const pair = await server.createPair({
        name: 'nowait',
        source: local(folders.source),
        destination: local(folders.destination),
      });
      const answer = await request('POST', `/api/v1/pairs/${pair.id}/runs`, {});
      expect(answer.status).toBe(202);
      expect(answer.body.status).toBe('queued');
      await server.runtime.idle();
    });

    it.each([
      ['wait=maybe', 'querystring.wait'],
      ['wait=true&timeout=0', 'querystring.timeout'],
      ['wait=true&timeout=soon', 'querystring.timeout'],
    ])('refuses ?%s with 400 naming %s', async (query, field) => {
      const folders = await server.folders(`bad-${query.length}`);
      const pair = await server.createPair({
        name: 'bad wait',
        source: local(folders.source),
        destination: local(folders.destination),
      });
      const answer = await request('POST', `/api/v1/pairs/${pair.id}/runs?${query}`, {});
      expect(answer.status).toBe(400);
      expect(answer.body.message).toContain(field);
      // Nothing was started.
      expect((await request('GET', `/api/v1/pairs/${pair.id}/runs`)).body.items).toEqual([]);
    });
  });

  describe('GET /pairs/:id/status', () => {
    it('lists the items out of sync before the first run, then says in sync with the totals per side', async () => {
      const folders = await server.folders('status-flow');
      await writeFile(join(folders.source, 'a.txt'), 'alpha');
      await mkdir(join(folders.source, 'docs'));
      await writeFile(join(folders.source, 'docs', 'b.txt'), 'bravo!');
      await writeFile(join(folders.destination, 'c.txt'), 'charlie');
      const pair = await server.createPair({
        name: 'status flow',
        source: local(folders.source),
        destination: local(folders.destination),
      });

      const before = (await request('GET', `/api/v1/pairs/${pair.id}/status`)).body as PairSyncStatus;
      expect(before.state).toBe('out_of_sync');
      expect(before.sides).toBeNull();
      expect(before.items.map((item) => `${item.type} ${item.path}`).sort()).toEqual(
        expect.arrayContaining(['UPLOAD_NEW a.txt', 'UPLOAD_NEW docs/b.txt', 'DOWNLOAD_NEW c.txt']),
      );
      expect(before.outOfSync).toBe(before.items.length);

      expect((await request('POST', `/api/v1/pairs/${pair.id}/runs?wait=true`, {})).status).toBe(200);
      const after = (await request('GET', `/api/v1/pairs/${pair.id}/status`)).body as PairSyncStatus;
      expect(after).toMatchObject({ state: 'in_sync', outOfSync: 0, items: [], problem: null, watch: null });
      // a.txt (5) + docs/b.txt (6) + c.txt (7) on both sides, and the folder docs.
      expect(after.sides).toEqual({
        source: { files: 3, folders: 1, bytes: 18 },
        destination: { files: 3, folders: 1, bytes: 18 },
      });
    });

    it('reports a missing folder as an error naming the side and the folder', async () => {
      const folders = await server.folders('status-missing');
      const pair = await server.createPair({
        name: 'status missing',
        source: local(folders.source),
        destination: local(folders.destination),
      });
      await rm(folders.destination, { recursive: true });
      const status = (await request('GET', `/api/v1/pairs/${pair.id}/status`)).body as PairSyncStatus;
      expect(status.state).toBe('error');
      expect(status.problem).toBe(`Destination folder ${folders.destination} does not exist`);
    });

    it('refuses a request without a session, a malformed id and an unknown pair', async () => {
      const unknown = crypto.randomUUID();
      expect((await request('GET', `/api/v1/pairs/${unknown}/status`, undefined, null)).status).toBe(401);
      const malformed = await request('GET', '/api/v1/pairs/not-an-id/status');
      expect(malformed.status).toBe(400);
      expect(malformed.body.message).toContain('params.id');
      expect((await request('GET', `/api/v1/pairs/${unknown}/status`)).status).toBe(404);
    });
  });

  describe('the overview: GET /runs, /changes and /system', () => {
    it('lists the newest runs and changes of every pair, newest first, without dry runs', async () => {
      const first = await server.folders('overview-1');
      const second = await server.folders('overview-2');
      await writeFile(join(first.source, 'one.txt'), 'one');
      await writeFile(join(second.source, 'two.txt'), 'two');
      const pairOne = await server.createPair({
        name: 'overview one',
        source: local(first.source),
        destination: local(first.destination),
      });
      const pairTwo = await server.createPair({
        name: 'overview two',
        source: local(second.source),
        destination: local(second.destination),
      });
      const runOne = (await request('POST', `/api/v1/pairs/${pairOne.id}/runs?wait=true`, {})).body as Run;
      await request('POST', `/api/v1/pairs/${pairTwo.id}/runs?wait=true`, { dryRun: true });
      const runTwo = (await request('POST', `/api/v1/pairs/${pairTwo.id}/runs?wait=true`, {})).body as Run;
      await rm(join(first.source, 'one.txt'));
      // Deleting the pair's only file needs force past the max-delete guard.
      await request('POST', `/api/v1/pairs/${pairOne.id}/runs?wait=true`, { force: true });

      const runs = await request('GET', '/api/v1/runs?limit=3');
      expect(runs.status).toBe(200);
      expect(runs.body.items).toHaveLength(3);
      expect(runs.body.items[0].pairId).toBe(pairOne.id);
      expect(runs.body.items[1].id).toBe(runTwo.id);
      expect(runs.body.items[2].dryRun).toBe(true);

      const changes = await request('GET', '/api/v1/changes?limit=3');
      expect(changes.status).toBe(200);
      expect(
        changes.body.items.map((c: { type: string; path: string; pairId: string }) => [
          c.type,
          c.path,
          c.pairId,
        ]),
      ).toEqual([
        ['DELETE_DESTINATION', 'one.txt', pairOne.id],
        ['UPLOAD_NEW', 'two.txt', pairTwo.id],
        ['UPLOAD_NEW', 'one.txt', pairOne.id],
      ]);
      expect(changes.body.items[2].runId).toBe(runOne.id);
      expect(changes.body.items.every((c: { status: string }) => c.status === 'done')).toBe(true);
    });

    it('describes the server: version, mode, data directory, allowed roots with free space, runs waiting', async () => {
      const answer = await request('GET', '/api/v1/system');
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({
        mode: 'embedded',
        database: 'postgres',
        dataDir: join(server.root, '.data'),
        runs: { queued: 0, running: 0, paused: 0 },
        workersOnline: null,
      });
      expect(answer.body.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(answer.body.allowedRoots).toHaveLength(1);
      expect(answer.body.allowedRoots[0]).toMatchObject({ path: server.root, exists: true });
      expect(answer.body.allowedRoots[0].freeBytes).toBeGreaterThan(0);
      expect(answer.body.allowedRoots[0].totalBytes).toBeGreaterThanOrEqual(
        answer.body.allowedRoots[0].freeBytes,
      );
    });

    it.each(['/api/v1/runs', '/api/v1/changes', '/api/v1/system'])(
      'refuses %s without a session',
      async (url) => {
        expect((await request('GET', url, undefined, null)).status).toBe(401);
      },
    );

    it.each([
      ['/api/v1/runs?limit=0', 'querystring.limit'],
      ['/api/v1/changes?limit=many', 'querystring.limit'],
      ['/api/v1/changes?limit=500', 'querystring.limit'],
    ])('refuses %s with 400 naming %s', async (url, field) => {
      const answer = await request('GET', url);
      expect(answer.status).toBe(400);
      expect(answer.body.message).toContain(field);
    });
  });

  describe('GET /folders (the folder picker)', () => {
    it('lists the allowed roots, then only the subfolders of a folder under them', async () => {
      const base = join(server.root, 'picker');
      await mkdir(join(base, 'photos', '2024'), { recursive: true });
      await mkdir(join(base, 'music'), { recursive: true });
      await mkdir(join(base, '.syncengine'), { recursive: true });
      await writeFile(join(base, 'notes.txt'), 'a file, not a folder');
      await symlink(tmpdir(), join(base, 'escape'));

      const roots = await request('GET', '/api/v1/folders');
      expect(roots.status).toBe(200);
      expect(roots.body).toMatchObject({ path: null, parent: null, roots: [server.root] });
      expect(roots.body.folders).toEqual([{ name: server.root, path: server.root }]);

      const listing = await request('GET', `/api/v1/folders?path=${encodeURIComponent(base)}`);
      expect(listing.status).toBe(200);
      // No file, no engine folder, no symlink leading out of the roots.
      expect(listing.body.folders).toEqual([
        { name: 'music', path: join(base, 'music') },
        { name: 'photos', path: join(base, 'photos') },
      ]);
      expect(listing.body.parent).toBe(server.root);
      const top = await request('GET', `/api/v1/folders?path=${encodeURIComponent(server.root)}`);
      expect(top.body.parent).toBeNull();
    });

    it.each([
      ['outside the roots', () => tmpdir()],
      ['through ..', () => join(server.root, 'picker', '..', '..')],
      ['relative', () => 'picker'],
      ['missing', () => join(server.root, 'no-such-folder')],
      ['a file', () => join(server.root, 'picker', 'notes.txt')],
    ])('refuses a path %s with 400 naming querystring.path', async (_case, path) => {
      await mkdir(join(server.root, 'picker'), { recursive: true });
      await writeFile(join(server.root, 'picker', 'notes.txt'), 'x');
      const answer = await request('GET', `/api/v1/folders?path=${encodeURIComponent(path())}`);
      expect(answer.status).toBe(400);
      expect(answer.body.message).toContain('querystring.path');
      expect(answer.body.folders).toBeUndefined();
    });

    it('refuses a request without a session', async () => {
      expect((await request('GET', '/api/v1/folders', undefined, null)).status).toBe(401);
    });
  });

  describe('saving a pair with a folder that does not exist', () => {
    it('is refused naming the folder, and creates it on request', async () => {
      const source = join(server.root, 'save-missing', 'source');
      const destination = join(server.root, 'save-missing', 'destination');
      await mkdir(source, { recursive: true });
      const body = { name: 'missing destination', source: local(source), destination: local(destination) };

      const refused = await request('POST', '/api/v1/pairs', body);
      expect(refused.status).toBe(400);
      expect(refused.body.issues).toEqual([
        {
          path: 'destination.path',
          message: `Destination folder ${destination} does not exist`,
        },
      ]);
      expect(await stat(destination).catch(() => null)).toBeNull();
      expect(
        (await request('GET', '/api/v1/pairs')).body.items.map((p: { name: string }) => p.name),
      ).not.toContain('missing destination');

      const created = await request('POST', '/api/v1/pairs?createFolders=true', body);
      expect(created.status).toBe(201);
      expect((await stat(destination)).isDirectory()).toBe(true);
    });

    it('refuses createFolders=maybe with 400 naming querystring.createFolders', async () => {
      const answer = await request('POST', '/api/v1/pairs?createFolders=maybe', {
        name: 'x',
        source: local(join(server.root, 'a')),
        destination: local(join(server.root, 'b')),
      });
      expect(answer.status).toBe(400);
      expect(answer.body.message).toContain('querystring.createFolders');
    });
  });
});
