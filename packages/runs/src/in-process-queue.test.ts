import { describe, expect, it } from 'vitest';
import { createInProcessQueue } from './in-process-queue.js';
import { UnrecoverableJobError } from './job-queue.js';

const ids = () => ({ runId: crypto.randomUUID(), pairId: crypto.randomUUID() });

describe('in-process job queue', () => {
  it('runs enqueued jobs once it is processing, with parsed payloads', async () => {
    const queue = createInProcessQueue();
    const seen: string[] = [];
    const first = ids();
    await queue.enqueue('sync-run', first);
    queue.process({
      'sync-run': async (payload) => {
        seen.push(payload.runId);
      },
      'scheduled-sync': async () => {},
      'version-restore': async () => {},
    });
    await new Promise((resolve) => setImmediate(resolve));
    await queue.idle();
    expect(seen).toEqual([first.runId]);
    await queue.close();
  });

  it('refuses a payload that does not match the catalog', async () => {
    const queue = createInProcessQueue();
    await expect(queue.enqueue('sync-run', { runId: 'nope' } as never)).rejects.toThrow(/runId|pairId/);
    await queue.close();
  });

  it('does not add a job twice while one with the same id waits', async () => {
    const queue = createInProcessQueue();
    const payload = ids();
    await queue.enqueue('sync-run', payload, { jobId: payload.runId });
    await queue.enqueue('sync-run', payload, { jobId: payload.runId });
    let count = 0;
    queue.process({
      'sync-run': async () => {
        count += 1;
      },
      'scheduled-sync': async () => {},
      'version-restore': async () => {},
    });
    await new Promise((resolve) => setImmediate(resolve));
    await queue.idle();
    expect(count).toBe(1);
    await queue.close();
  });

  it('does not retry an unrecoverable failure', async () => {
    const errors: unknown[] = [];
    const queue = createInProcessQueue({ onError: (error) => errors.push(error) });
    let calls = 0;
    queue.process({
      'sync-run': async () => {
        calls += 1;
        throw new UnrecoverableJobError('bad pair');
      },
      'scheduled-sync': async () => {},
      'version-restore': async () => {},
    });
    await queue.enqueue('sync-run', ids());
    await new Promise((resolve) => setTimeout(resolve, 20));
    await queue.idle();
    expect(calls).toBe(1);
    expect(errors).toHaveLength(1);
    await queue.close();
  });

  it('reports a job that failed for good, with its payload, and not a try that will be retried', async () => {
    const failures: Array<{ name: string; payload: unknown; message: string }> = [];
    const queue = createInProcessQueue({
      onFailed: ({ name, payload, error }) => {
        failures.push({ name, payload, message: error.message });
      },
    });
    const payload = ids();
    let restoreTries = 0;
    queue.process({
      'sync-run': async () => {
        throw new UnrecoverableJobError('bad pair');
      },
      'scheduled-sync': async () => {},
      'version-restore': async () => {
        restoreTries += 1;
        if (restoreTries === 1) throw new Error('try again');
      },
    });
    await queue.enqueue('sync-run', payload);
    await queue.enqueue('version-restore', {
      pairId: payload.pairId,
      side: 'source',
      versionPath: '.syncengine/versions/x/a',
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await queue.idle();
    expect(failures).toEqual([{ name: 'sync-run', payload, message: 'bad pair' }]);
    await queue.close();
  });

  it('rejects an invalid cron expression', async () => {
    const queue = createInProcessQueue();
    await expect(queue.upsertSchedule(crypto.randomUUID(), '61 * * * *')).rejects.toThrow();
    await queue.upsertSchedule(crypto.randomUUID(), '*/5 * * * *');
    await queue.close();
  });
});
