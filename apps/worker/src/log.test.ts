import { describe, expect, it } from 'vitest';
import { createLog } from './log.js';

describe("the worker's log", () => {
  it('writes one JSON line per message, with no secret from the error texts it is given', () => {
    const lines: string[] = [];
    const log = createLog('info', { write: (line) => lines.push(line) });
    const failedQuery =
      'Failed query: update "runs" set "error" = $1 where "runs"."id" = $2\nparams: sftp://bob:pw-8c1f@host/,run-1';
    log.warn(`job sync-run 42 failed, will retry: ${failedQuery}`);
    log.error('could not reach redis://:redis-pass-77@cache:6379');
    log.info('run started', { url: 'https://alice:dav-pass-31@dav.example/', runId: 'r1' });
    expect(lines).toHaveLength(3);
    const parsed = lines.map((line) => JSON.parse(line));
    expect(parsed[0]).toMatchObject({
      level: 'warn',
      msg: 'job sync-run 42 failed, will retry: Failed query: update "runs" set "error" = $1 where "runs"."id" = $2\nparams: [redacted]',
    });
    expect(parsed[1].msg).toBe('could not reach redis://:[redacted]@cache:6379');
    expect(parsed[2]).toMatchObject({ runId: 'r1', url: 'https://alice:[redacted]@dav.example/' });
    expect(lines.join('')).not.toMatch(/pw-8c1f|redis-pass-77|dav-pass-31/);
  });

  it('leaves out messages below its level', () => {
    const lines: string[] = [];
    const log = createLog('warn', { write: (line) => lines.push(line) });
    log.info('not shown');
    log.warn('shown');
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual(['shown']);
  });
});
