import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Run } from '@syncengine/contracts';
import { PostgresStateStore } from '@syncengine/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './testing/index.js';

describe('a run that exceeds its time limit', () => {
  let server: TestServer;
  beforeAll(async () => {
    // The catalog's limit is a day; this server's runs get 2 s.
    server = await startTestServer({ driver: 'pglite', jobTimeouts: { 'sync-run': 2_000 } });
  });
  afterAll(() => server?.close());

  it('is stopped through its signal, recorded as failed with the reason, and keeps what it did', async () => {
    const { source, destination } = await server.folders('timeout');
    // The conflict on report.txt makes the run wait for a decision that never comes (the
    // decision timeout is a minute), while other.txt is copied.
    await writeFile(join(source, 'report.txt'), 'source version');
    await writeFile(join(destination, 'report.txt'), 'destination version');
    await writeFile(join(source, 'other.txt'), 'no conflict here');
    const pair = await server.createPair({
      name: 'timeout',
      source: { type: 'local', path: source },
      destination: { type: 'local', path: destination },
      conflictResolution: 'MANUAL',
      comparisonMode: 'SIZE_ONLY',
    });
    const ended = server.nextEvent(
      (event) =>
        (event.type === 'run.failed' || event.type === 'run.completed') && event.run.pairId === pair.id,
      30_000,
    );
    const startedAt = Date.now();
    const started = await server.runtime.app.inject({
      method: 'POST',
      url: `/api/v1/pairs/${pair.id}/runs`,
      headers: { cookie: server.cookie },
      payload: {},
    });
    expect(started.statusCode).toBe(202);
    const event = await ended;
    expect(event.type).toBe('run.failed');
    const elapsed = Date.now() - startedAt;
    expect(elapsed).toBeGreaterThanOrEqual(1_900);
    expect(elapsed).toBeLessThan(30_000);

    const run = (
      await server.runtime.app.inject({
        method: 'GET',
        url: `/api/v1/runs/${(started.json() as Run).id}`,
        headers: { cookie: server.cookie },
      })
    ).json<Run>();
    expect(run.status).toBe('failed');
    expect(run.error).toBe('the run exceeded its time limit of 2 s');
    // Saved as for a cancel: the state and the metadata of a cancelled run, the conflict left pending.
    expect(await readFile(join(destination, 'report.txt'), 'utf8')).toBe('destination version');
    const store = new PostgresStateStore(server.runtime.database.db, pair.id);
    expect(await store.load()).not.toBeNull();
    const metadata = await store.loadMetadata();
    expect(metadata?.lastRunStatus).toBe('cancelled');
    expect(metadata?.pendingConflicts.map((conflict) => conflict.path)).toEqual(['report.txt']);

    // The pair goes on: the decision taken now is applied by a follow-up run, within its limit.
    const conflicts = await server.runtime.repos.conflicts.list({ status: 'pending' });
    const conflict = conflicts.find((item) => item.pairId === pair.id)!;
    const followUp = server.nextEvent(
      (next) => next.type === 'run.completed' && next.run.pairId === pair.id,
      30_000,
    );
    const resolved = await server.runtime.app.inject({
      method: 'POST',
      url: `/api/v1/conflicts/${conflict.id}/resolve`,
      headers: { cookie: server.cookie },
      payload: { resolution: 'source' },
    });
    expect(resolved.statusCode).toBeLessThan(300);
    await followUp;
    expect(await readFile(join(destination, 'report.txt'), 'utf8')).toBe('source version');
    expect(await readFile(join(destination, 'other.txt'), 'utf8')).toBe('no conflict here');
  });
});
