import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Run } from '@syncengine/contracts';
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
});
