import { describe, expect, it } from 'vitest';
import { isSyncError, SyncError } from './errors.js';
import { withRetry } from './retry.js';

const fast = { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 };

describe('withRetry', () => {
  it('retries TRANSIENT failures and returns the first success', async () => {
    let calls = 0;
    const result = await withRetry('op', fast, async () => {
      calls += 1;
      if (calls < 3) throw new SyncError('TRANSIENT', 'connection reset');
      return 'done';
    });
    expect([result, calls]).toEqual(['done', 3]);
  });

  it('gives up after the budget with a TRANSIENT error naming the operation and the attempts', async () => {
    let calls = 0;
    const error = await withRetry('stat "x"', fast, async () => {
      calls += 1;
      throw new SyncError('TRANSIENT', 'connection reset');
    }).catch((e: unknown) => e);
    expect(calls).toBe(3);
    expect(isSyncError(error, 'TRANSIENT')).toBe(true);
    expect((error as Error).message).toBe('stat "x" failed after 3 attempts: connection reset');
  });

  it('does not retry other errors', async () => {
    let calls = 0;
    const error = await withRetry('op', fast, async () => {
      calls += 1;
      throw new SyncError('NOT_FOUND', 'gone');
    }).catch((e: unknown) => e);
    expect(calls).toBe(1);
    expect(isSyncError(error, 'NOT_FOUND')).toBe(true);
  });

  it('stops waiting when cancelled', async () => {
    const controller = new AbortController();
    const promise = withRetry(
      'op',
      { attempts: 5, baseDelayMs: 10_000, maxDelayMs: 10_000 },
      async () => {
        throw new SyncError('TRANSIENT', 'busy');
      },
      controller.signal,
    );
    setTimeout(() => controller.abort(), 10);
    await expect(promise).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
