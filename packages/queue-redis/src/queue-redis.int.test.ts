import { randomBytes, randomUUID } from 'node:crypto';
import {
  type BusEvent,
  type PlanPreviewAnswer,
  PREVIEW_QUEUE,
  type RunControlMessage,
  SYNC_QUEUE,
} from '@syncengine/contracts';
import { canReachRedis, flushPrefix, requireService, TEST_REDIS_URL } from '@syncengine/db/testing';
import { type JobHandlers, JobNotAnsweredError } from '@syncengine/runs';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createBullQueue } from './bull-queue.js';
import { createBullWorker } from './bull-worker.js';
import { RedisUnavailableError } from './connection.js';
import { createRedisEventBus } from './redis-event-bus.js';

const hasRedis = await requireService('Redis', () => canReachRedis(TEST_REDIS_URL));

/** Every field of a Redis hash, as stored. */
async function readHash(key: string): Promise<Record<string, string>> {
  const client = new Redis(TEST_REDIS_URL);
  try {
    return await client.hgetall(key);
  } finally {
    client.disconnect();
  }
}

const NOT_PLANNED: PlanPreviewAnswer = { isPlanned: false, cause: 'sync', problem: 'not planned here' };

const waitFor = async (check: () => boolean | Promise<boolean>, timeoutMs = 5_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe.skipIf(!hasRedis)('BullMQ queue, worker and Redis event bus', () => {
  const prefix = `se-test-qr-${randomBytes(4).toString('hex')}`;
  afterAll(() => flushPrefix(TEST_REDIS_URL, prefix));

  it('fails an enqueue at once, with a clear error, when Redis is unreachable', async () => {
    const queue = createBullQueue({ connection: 'redis://127.0.0.1:1', prefix, connectTimeoutMs: 300 });
    try {
      const startedAt = Date.now();
      await expect(
        queue.enqueue('sync-run', { runId: randomUUID(), pairId: randomUUID() }),
      ).rejects.toBeInstanceOf(RedisUnavailableError);
      expect(Date.now() - startedAt).toBeLessThan(1_500);
      expect(await queue.isHealthy()).toBe(false);
    } finally {
      await queue.close();
    }
  });

  it('runs each job once per job id, retries failures as the catalog says, and never retries a bad payload', async () => {
    const queue = createBullQueue({ connection: TEST_REDIS_URL, prefix });
    const seen: string[] = [];
    const failures: Array<{ name: string; message: string }> = [];
    let failOnce = true;
    const handlers: JobHandlers = {
      'sync-run': async ({ runId }) => {
        seen.push(runId);
      },
      'scheduled-sync': async ({ pairId }) => {
        seen.push(`scheduled:${pairId}`);
        if (failOnce) {
          failOnce = false;
          throw new Error('transient');
        }
      },
      'version-restore': async () => {},
      'plan-preview': async () => NOT_PLANNED,
    };
    const worker = createBullWorker({
      connection: TEST_REDIS_URL,
      prefix,
      handlers,
      concurrency: 2,
      onFailed: ({ name, error }) => {
        failures.push({ name, message: error.message });
      },
    });
    try {
      expect(await queue.isHealthy()).toBe(true);
      const runId = randomUUID();
      const pairId = randomUUID();
      await Promise.all([
        queue.enqueue('sync-run', { runId, pairId }, { jobId: runId }),
        queue.enqueue('sync-run', { runId, pairId }, { jobId: runId }),
      ]);
      await expect(queue.enqueue('sync-run', { runId: 'nope', pairId })).rejects.toThrow();
      // A malformed job that bypassed the producer's validation.
      await queue.queueFor('sync-run').add('sync-run', { runId: 'not-a-uuid' }, { attempts: 3 });
      await waitFor(() => seen.includes(runId) && failures.length === 1);
      expect(seen.filter((id) => id === runId)).toHaveLength(1);
      expect(failures[0]).toMatchObject({ name: 'sync-run' });
      expect(failures[0]!.message).toMatch(/invalid sync-run payload/);
      // scheduled-sync has one attempt in the catalog: its failure is final.
      await queue.enqueue('scheduled-sync', { pairId });
      await waitFor(() => failures.length === 2);
      expect(failures[1]).toEqual({ name: 'scheduled-sync', message: 'transient' });
      expect(seen.filter((id) => id === `scheduled:${pairId}`)).toHaveLength(1);
    } finally {
      await worker.close();
      await queue.close();
    }
  });

  it('stores the error of a failed job in Redis without the secrets its message and stack carry', async () => {
    const jobPrefix = `${prefix}-f`;
    const queue = createBullQueue({ connection: TEST_REDIS_URL, prefix: jobPrefix });
    const secrets = ['sftp-pass-61c0', 's3-secret-9e2b', 'url-pass-40ad'];
    const failures: Error[] = [];
    const handler = async () => {
      throw new Error(
        `password=${secrets[0]} rejected; S3 secretAccessKey=${secrets[1]}; ` +
          `fetch https://alice:${secrets[2]}@dav.example/files failed`,
      );
    };
    const worker = createBullWorker({
      connection: TEST_REDIS_URL,
      prefix: jobPrefix,
      concurrency: 1,
      handlers: {
        'sync-run': handler,
        'scheduled-sync': handler,
        'version-restore': async () => {},
        'plan-preview': async () => NOT_PLANNED,
      },
      onFailed: ({ error }) => {
        failures.push(error);
      },
    });
    try {
      const pairId = randomUUID();
      // scheduled-sync has one attempt, so its first failure is final.
      const jobId = randomUUID();
      await queue.enqueue('scheduled-sync', { pairId }, { jobId });
      await waitFor(() => failures.length === 1);
      const job = await queue.queueFor('scheduled-sync').getJob(jobId);
      expect(job?.failedReason).toMatch(/password=\[redacted\]/);
      const stored = JSON.stringify(await readHash(`${jobPrefix}:${SYNC_QUEUE}:${jobId}`));
      expect(stored).toContain('rejected');
      expect((job?.stacktrace ?? []).join('\n')).toContain('rejected');
      for (const secret of secrets) {
        expect(job?.failedReason).not.toContain(secret);
        expect((job?.stacktrace ?? []).join('\n')).not.toContain(secret);
        expect(stored).not.toContain(secret);
        expect(failures[0]!.message).not.toContain(secret);
      }
    } finally {
      await worker.close();
      await queue.close();
      await flushPrefix(TEST_REDIS_URL, jobPrefix);
    }
  });

  it('answers a request through a worker while its runs are busy, and names the problem when no worker answers', async () => {
    const requestPrefix = `${prefix}-r`;
    const queue = createBullQueue({
      connection: TEST_REDIS_URL,
      prefix: requestPrefix,
      answerTimeoutMs: 1_000,
    });
    let isStalling = false;
    let releaseRun = () => {};
    await expect(queue.request('plan-preview', { pairId: randomUUID() })).rejects.toThrow(
      new JobNotAnsweredError('no worker is connected to answer plan-preview jobs'),
    );
    const worker = createBullWorker({
      connection: TEST_REDIS_URL,
      prefix: requestPrefix,
      concurrency: 1,
      handlers: {
        'sync-run': () => new Promise<void>((resolve) => (releaseRun = resolve)),
        'scheduled-sync': async () => {},
        'version-restore': async () => {},
        'plan-preview': async ({ pairId, changesLimit }) =>
          isStalling
            ? new Promise<PlanPreviewAnswer>(() => {})
            : { ...NOT_PLANNED, problem: `${pairId} limited to ${changesLimit}` },
      },
    });
    try {
      await worker.ready();
      // The only run slot is taken: the preview is answered all the same.
      await queue.enqueue('sync-run', { runId: randomUUID(), pairId: randomUUID() });
      await waitFor(async () => (await queue.queueFor('sync-run').getActiveCount()) === 1);
      const pairId = randomUUID();
      expect(await queue.request('plan-preview', { pairId, changesLimit: 5 })).toEqual({
        ...NOT_PLANNED,
        problem: `${pairId} limited to 5`,
      });

      isStalling = true;
      const startedAt = Date.now();
      await expect(queue.request('plan-preview', { pairId })).rejects.toThrow(
        new JobNotAnsweredError('no worker answered the plan-preview job within 1 s'),
      );
      expect(Date.now() - startedAt).toBeLessThan(3_000);
      expect(await queue.queueFor('plan-preview').getWaitingCount()).toBe(0);
      expect(queue.queueFor('plan-preview').name).toBe(PREVIEW_QUEUE);
    } finally {
      releaseRun();
      await worker.abandon();
      await queue.close();
      await flushPrefix(TEST_REDIS_URL, requestPrefix);
    }
  });

  it('fires a pair schedule through a job scheduler and stops when it is removed', async () => {
    const queue = createBullQueue({ connection: TEST_REDIS_URL, prefix: `${prefix}-s` });
    const fired: number[] = [];
    const worker = createBullWorker({
      connection: TEST_REDIS_URL,
      prefix: `${prefix}-s`,
      concurrency: 1,
      handlers: {
        'sync-run': async () => {},
        'scheduled-sync': async () => {
          fired.push(Date.now());
        },
        'version-restore': async () => {},
        'plan-preview': async () => NOT_PLANNED,
      },
    });
    try {
      const pairId = randomUUID();
      await queue.upsertSchedule(pairId, '* * * * * *');
      await waitFor(() => fired.length >= 2, 5_000);
      await queue.removeSchedule(pairId);
      const countAfterRemoval = fired.length;
      await new Promise((resolve) => setTimeout(resolve, 2_200));
      // At most one already-queued occurrence may still run.
      expect(fired.length - countAfterRemoval).toBeLessThanOrEqual(1);
      await expect(queue.upsertSchedule(pairId, 'not a cron')).rejects.toThrow();
    } finally {
      await worker.close();
      await queue.close();
      await flushPrefix(TEST_REDIS_URL, `${prefix}-s`);
    }
  });

  it('carries events and run-control messages between processes within a second', async () => {
    const server = createRedisEventBus({ connection: TEST_REDIS_URL, prefix });
    const worker = createRedisEventBus({ connection: TEST_REDIS_URL, prefix });
    const other = createRedisEventBus({ connection: TEST_REDIS_URL, prefix: `${prefix}-other` });
    const events: BusEvent[] = [];
    const controls: RunControlMessage[] = [];
    const strayControls: RunControlMessage[] = [];
    try {
      server.subscribe((event) => events.push(event));
      worker.onControl((message) => controls.push(message));
      other.onControl((message) => strayControls.push(message));
      await Promise.all([server.ready(), worker.ready(), other.ready()]);
      const runId = randomUUID();
      const pairId = randomUUID();
      const sentAt = Date.now();
      await server.sendControl({ type: 'pause', runId });
      await worker.publish({ type: 'run.paused', runId, pairId });
      await waitFor(() => controls.length === 1 && events.length === 1, 1_000);
      expect(Date.now() - sentAt).toBeLessThan(1_000);
      expect(controls).toEqual([{ type: 'pause', runId }]);
      expect(events).toEqual([{ type: 'run.paused', runId, pairId }]);
      expect(strayControls).toEqual([]);
      await expect(server.sendControl({ type: 'pause', runId: 'x' } as RunControlMessage)).rejects.toThrow();
    } finally {
      await Promise.all([server.close(), worker.close(), other.close()]);
    }
  });
});
