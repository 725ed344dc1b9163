import type { PlanPreviewAnswer } from '@syncengine/contracts';
import { describe, expect, it } from 'vitest';
import { createInProcessQueue } from './in-process-queue.js';
import { type JobHandlers, JobNotAnsweredError, UnrecoverableJobError } from './job-queue.js';

const ids = () => ({ runId: crypto.randomUUID(), pairId: crypto.randomUUID() });
const NOT_PLANNED: PlanPreviewAnswer = { isPlanned: false, cause: 'sync', problem: 'not planned here' };
const idleHandlers = (preview: JobHandlers['plan-preview']): JobHandlers => ({
  'sync-run': async () => {},
  'scheduled-sync': async () => {},
  'version-restore': async () => {},
  'plan-preview': preview,
});

describe('in-process requests', () => {
  it('answers a preview with its handler, beside a run that holds every slot', async () => {
    const queue = createInProcessQueue({ concurrency: 1 });
    let releaseRun = () => {};
    queue.process({
      ...idleHandlers(async ({ pairId }) => ({ ...NOT_PLANNED, problem: `asked about ${pairId}` })),
      'sync-run': () => new Promise<void>((resolve) => (releaseRun = resolve)),
    });
    await queue.enqueue('sync-run', ids());
    await new Promise((resolve) => setImmediate(resolve));
    const pairId = crypto.randomUUID();
    expect(await queue.request('plan-preview', { pairId })).toEqual({
      ...NOT_PLANNED,
      problem: `asked about ${pairId}`,
    });
    releaseRun();
    await queue.close();
  });

  it('names the job when nothing answers it in time, or nothing takes it', async () => {
    const unprocessed = createInProcessQueue();
    await expect(unprocessed.request('plan-preview', { pairId: crypto.randomUUID() })).rejects.toThrow(
      new JobNotAnsweredError('no worker takes plan-preview jobs in this process'),
    );
    const slow = createInProcessQueue({ timeouts: { 'plan-preview': 50 } });
    slow.process(idleHandlers(() => new Promise<PlanPreviewAnswer>(() => {})));
    await expect(slow.request('plan-preview', { pairId: crypto.randomUUID() })).rejects.toThrow(
      'the plan-preview job did not finish within 50 ms',
    );
    await expect(slow.request('plan-preview', { pairId: 'nope' })).rejects.toThrow(/pairId/);
    await slow.close();
  });
});

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
      'plan-preview': async () => NOT_PLANNED,
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
      'plan-preview': async () => NOT_PLANNED,
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
      'plan-preview': async () => NOT_PLANNED,
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
      'plan-preview': async () => NOT_PLANNED,
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
