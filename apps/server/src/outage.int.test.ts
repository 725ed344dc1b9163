import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Health } from '@syncengine/contracts';
import {
  canRunOwnServices,
  type OwnPostgres,
  type OwnRedis,
  startOwnPostgres,
  startOwnRedis,
} from '@syncengine/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/testing/index.js';

const canRun = await canRunOwnServices();

const waitFor = async <T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
};

describe.skipIf(!canRun)('the server while Postgres or Redis is down', () => {
  let postgres: OwnPostgres;
  let redis: OwnRedis;
  let server: TestServer;
  const get = (url: string) =>
    server.runtime.app.inject({ method: 'GET', url, headers: { cookie: server.cookie } });

  beforeAll(async () => {
    [postgres, redis] = await Promise.all([startOwnPostgres(), startOwnRedis()]);
    server = await startTestServer({
      driver: 'postgres',
      postgresUrl: postgres.url,
      redis: { url: redis.url, prefix: `se-outage-${randomBytes(4).toString('hex')}` },
    });
  }, 120_000);
  afterAll(async () => {
    await server?.close().catch(() => {});
    await postgres?.close();
    await redis?.close();
  });

  it('answers 503 naming the database while Postgres is down, says so in /health, and recovers by itself', async () => {
    expect((await get('/api/v1/pairs')).statusCode).toBe(200);
    await postgres.stop('fast');
    try {
      const refused = await get('/api/v1/pairs');
      expect(refused.statusCode).toBe(503);
      expect(refused.headers['retry-after']).toBe('5');
      expect(refused.json()).toMatchObject({
        statusCode: 503,
        code: 'DATABASE_UNAVAILABLE',
        message: expect.stringContaining('database is unavailable'),
      });
      const health = await get('/api/v1/health');
      expect(health.statusCode).toBe(503);
      expect(health.json<Health>()).toMatchObject({
        status: 'degraded',
        database: { status: 'down', driver: 'postgres' },
        queue: { status: 'up' },
      });
    } finally {
      await postgres.start();
    }
    // The pool replaces its dead connections without a restart of the server.
    await waitFor('the API to answer again', async () => {
      const response = await get('/api/v1/pairs');
      return response.statusCode === 200 ? response : undefined;
    });
    expect((await get('/api/v1/health')).json<Health>().status).toBe('ok');
  });

  it('answers 503 naming the job queue while Redis is down, and takes runs again once it is back', async () => {
    const folders = await server.folders('redis-outage');
    await writeFile(join(folders.source, 'a.txt'), 'outage');
    const pair = await server.createPair({
      name: 'redis outage',
      source: { type: 'local', path: folders.source },
      destination: { type: 'local', path: folders.destination },
    });
    const trigger = () =>
      server.runtime.app.inject({
        method: 'POST',
        url: `/api/v1/pairs/${pair.id}/runs`,
        headers: { cookie: server.cookie },
        payload: {},
      });
    await redis.stop();
    try {
      const refused = await trigger();
      expect(refused.statusCode).toBe(503);
      expect(refused.json()).toMatchObject({ code: 'QUEUE_UNAVAILABLE' });
      const health = (await get('/api/v1/health')).json<Health>();
      expect(health).toMatchObject({
        status: 'degraded',
        database: { status: 'up' },
        queue: { status: 'down' },
      });
      // The refused trigger left no run holding the pair: it is recorded as failed, visibly.
      const runs = await get(`/api/v1/pairs/${pair.id}/runs`);
      expect(runs.json<{ items: Array<{ status: string; error: string | null }> }>().items).toMatchObject([
        { status: 'failed', error: expect.stringContaining('could not enqueue') },
      ]);
    } finally {
      await redis.start();
    }
    const accepted = await waitFor('a trigger to be accepted', async () => {
      const response = await trigger();
      return response.statusCode === 202 ? response : undefined;
    });
    const runId = accepted.json<{ id: string }>().id;
    const finished = await waitFor('the run to complete', async () => {
      const run = (await get(`/api/v1/runs/${runId}`)).json<{ status: string }>();
      return run.status === 'completed' || run.status === 'failed' ? run : undefined;
    });
    expect(finished.status).toBe('completed');
  });
});
