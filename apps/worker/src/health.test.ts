import { describe, expect, it } from 'vitest';
import { HEALTH_MAX_AGE_MS, judgeHealthReport } from './health.js';

describe('judgeHealthReport', () => {
  const now = 1_000_000_000;

  it('is healthy for a fresh report without problems', () => {
    expect(judgeHealthReport(JSON.stringify({ at: now - 1_000, problems: [] }), now)).toBeNull();
  });

  it('names the problems of a fresh report', () => {
    const text = JSON.stringify({
      at: now,
      problems: ['Redis: connect ECONNREFUSED', '/sync is not writable'],
    });
    expect(judgeHealthReport(text, now)).toBe('Redis: connect ECONNREFUSED; /sync is not writable');
  });

  it('is unhealthy when the report is stale: the event loop did not get to write it', () => {
    const text = JSON.stringify({ at: now - HEALTH_MAX_AGE_MS - 1_000, problems: [] });
    expect(judgeHealthReport(text, now)).toBe(
      'the last health report is 31 s old: the worker is not responding',
    );
  });

  it('is unhealthy without a report, or with one it cannot read', () => {
    expect(judgeHealthReport(null, now)).toBe('the worker has not reported its health yet');
    expect(judgeHealthReport('{"at": ', now)).toBe('the health report cannot be read');
    expect(judgeHealthReport('{}', now)).toContain('not responding');
  });
});
