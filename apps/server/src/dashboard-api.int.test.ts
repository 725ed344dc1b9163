import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PairSyncStatus, Run } from '@syncengine/contracts';
import { canReachPostgres, requireService, TEST_DATABASE_URL } from '@syncengine/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './testing/test-server.js';

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
      expect(after).toMatchObject({ state: 'in_sync', outOfSync: 0, items: [], problem: null });
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
});
