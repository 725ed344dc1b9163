import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PairSyncStatus, PlanPreview } from '@syncengine/contracts';
import {
  canReachPostgres,
  canReachRedis,
  flushPrefix,
  requireService,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
} from '@syncengine/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/testing/test-server.js';

const hasPostgres = await requireService('Postgres', () => canReachPostgres(TEST_DATABASE_URL));
const hasRedis = await requireService('Redis', () => canReachRedis(TEST_REDIS_URL));

describe.skipIf(!hasPostgres || !hasRedis)('previews on the workers (REDIS_URL, no embedded worker)', () => {
  const redis = { url: TEST_REDIS_URL, prefix: `se_test_preview_${crypto.randomUUID().slice(0, 8)}` };
  let api: TestServer;
  let worker: TestServer | null = null;
  const apiOpenings: string[] = [];

  beforeAll(async () => {
    api = await startTestServer({
      driver: 'postgres',
      redis,
      embeddedWorker: false,
      // The API process reads no storage: any opening here is recorded and refused.
      openStorage: async (location) => {
        apiOpenings.push(location.type);
        throw new Error('the API process opened a storage');
      },
    });
  });
  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await flushPrefix(TEST_REDIS_URL, redis.prefix);
  });

  it('builds no job handlers in the API process', () => {
    expect(api.runtime.handlers).toBeNull();
    expect(api.runtime.watchService).toBeNull();
  });

  it('answers 503 naming the problem while no worker is connected', async () => {
    const { source, destination } = await api.folders('unanswered');
    await writeFile(join(source, 'a.txt'), 'alpha');
    const pair = await api.createPair({
      name: 'unanswered',
      source: { type: 'local', path: source },
      destination: { type: 'local', path: destination },
    });
    const unanswered = await api.request('GET', `/api/v1/pairs/${pair.id}/plan`);
    expect(unanswered.status).toBe(503);
    expect(unanswered.body.message).toBe('cannot plan: no worker is connected to answer plan-preview jobs');
    const status = (await api.request('GET', `/api/v1/pairs/${pair.id}/status`)).body as PairSyncStatus;
    expect(status).toMatchObject({
      state: 'error',
      problem: 'no worker is connected to answer plan-preview jobs',
    });
    expect(apiOpenings).toEqual([]);
  });

  it('plans on a worker: the whole plan for the preview, the changes for the status', async () => {
    // A second process of the deployment, with a worker: it creates the pair in its allowed root.
    worker = await startTestServer({ driver: 'postgres', redis, databaseUrl: api.databaseUrl! });
    const { source, destination } = await worker.folders('previewed');
    await writeFile(join(source, 'a.txt'), 'alpha');
    await writeFile(join(source, 'b.txt'), 'bravo');
    await writeFile(join(destination, 'c.txt'), 'charlie');
    const pair = await worker.createPair({
      name: 'previewed',
      source: { type: 'local', path: source },
      destination: { type: 'local', path: destination },
    });

    const preview = await api.request('GET', `/api/v1/pairs/${pair.id}/plan`);
    expect(preview.status).toBe(200);
    const plan = preview.body as PlanPreview;
    expect(plan.isFirstSync).toBe(true);
    expect(plan.actions.map((action) => `${action.type} ${action.path}`).sort()).toEqual([
      'DOWNLOAD_NEW c.txt',
      'UPLOAD_NEW a.txt',
      'UPLOAD_NEW b.txt',
    ]);
    expect(plan.totals.files).toBe(3);

    const status = (await api.request('GET', `/api/v1/pairs/${pair.id}/status`)).body as PairSyncStatus;
    expect(status).toMatchObject({ state: 'out_of_sync', outOfSync: 3, problem: null });
    expect(status.items.map((item) => item.path).sort()).toEqual(['a.txt', 'b.txt', 'c.txt']);
    expect(apiOpenings).toEqual([]);
  });
});
