import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Run } from '@syncengine/contracts';
import { PostgresStateStore } from '@syncengine/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/testing/index.js';

describe('a run that exceeds its time limit', () => {
  let server: TestServer;
  // The catalog's limit is a day; this server's runs get 2 s (raised again for the last run).
  const jobTimeouts = { 'sync-run': 2_000 };
  beforeAll(async () => {
    server = await startTestServer({ driver: 'pglite', jobTimeouts });
  });
  afterAll(() => server?.close());

  const request = (method: 'GET' | 'POST', url: string) =>
    server.runtime.app.inject({ method, url, headers: { cookie: server.cookie }, payload: {} });

  it('is stopped through its signal, recorded as failed with the reason, and saved as for a cancel', async () => {
    const { source, destination } = await server.folders('timeout');
    // Enough files that the run is still going when it is paused right after it starts.
    await mkdir(join(source, 'many'));
    for (let index = 0; index < 2_000; index += 1) {
      await writeFile(join(source, 'many', `f${index}.txt`), `file ${index}`);
    }
    const pair = await server.createPair({
      name: 'timeout',
      source: { type: 'local', path: source },
      destination: { type: 'local', path: destination },
    });
    const started = server.nextEvent((event) => event.type === 'run.started' && event.run.pairId === pair.id);
    const ended = server.nextEvent(
      (event) =>
        (event.type === 'run.failed' || event.type === 'run.completed') && event.run.pairId === pair.id,
      30_000,
    );
    const startedAt = Date.now();
    const triggered = await request('POST', `/api/v1/pairs/${pair.id}/runs`);
    expect(triggered.statusCode).toBe(202);
    const runId = (triggered.json() as Run).id;
    await started;
    // A paused run waits for a resume that never comes: only its time limit ends it.
    expect((await request('POST', `/api/v1/runs/${runId}/pause`)).statusCode).toBe(202);
    expect((await ended).type).toBe('run.failed');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1_900);

    const run = (await request('GET', `/api/v1/runs/${runId}`)).json<Run>();
    expect(run.status).toBe('failed');
    expect(run.error).toBe('the run exceeded its time limit of 2 s');
    // Saved as for a cancel: the run's metadata says so, and the state holds what it did.
    const store = new PostgresStateStore(server.runtime.database.db, pair.id);
    expect((await store.loadMetadata())?.lastRunStatus).toBe('cancelled');

    // The pair goes on: the next run, within its limit, completes.
    jobTimeouts['sync-run'] = 60_000;
    const completed = server.nextEvent(
      (event) => event.type === 'run.completed' && event.run.pairId === pair.id,
      60_000,
    );
    expect((await request('POST', `/api/v1/pairs/${pair.id}/runs`)).statusCode).toBe(202);
    await completed;
    const state = await store.load();
    expect(state?.destination.size).toBe(2_001);
  });
});
