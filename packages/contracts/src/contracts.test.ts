import { describe, expect, it } from 'vitest';
import { RunControlMessageSchema } from './control.js';
import { JOBS, parseJobPayload } from './jobs.js';
import { CreatePairSchema, PairSchema, UpdatePairSchema } from './pair.js';
import { RunActionQuerySchema } from './run.js';
import { WsEventSchema } from './ws-events.js';

const local = (path: string) => ({ type: 'local' as const, path });

describe('CreatePairSchema', () => {
  it('fills every optional field with the SPEC default', () => {
    const pair = CreatePairSchema.parse({ name: 'docs', source: local('/a'), destination: local('/b') });
    expect(pair).toEqual({
      name: 'docs',
      source: local('/a'),
      destination: local('/b'),
      mode: 'TWO_WAY',
      comparisonMode: 'HASH_THEN_MTIME',
      conflictResolution: 'NEWEST_WINS',
      ignorePatterns: [],
      concurrency: { transfers: 5, operations: 10 },
      maxDeletePercent: 50,
      bandwidthLimit: null,
      schedule: null,
      enabled: true,
      watch: { enabled: false, debounceMs: 1_000, rescanMinutes: 60, pollSeconds: 60 },
    });
  });

  it('names the field that is wrong', () => {
    const result = CreatePairSchema.safeParse({
      name: 'x',
      source: local('/a'),
      destination: local('/b'),
      mode: 'SIDEWAYS',
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['mode']);
  });

  it('rejects a schedule that is not a cron expression', () => {
    const result = CreatePairSchema.safeParse({
      name: 'x',
      source: local('/a'),
      destination: local('/b'),
      schedule: 'hourly',
    });
    expect(result.error?.issues[0]?.path).toEqual(['schedule']);
  });
});

describe('UpdatePairSchema', () => {
  it('adds no defaults, so a patch changes only what it names', () => {
    expect(UpdatePairSchema.parse({ enabled: false })).toEqual({ enabled: false });
  });

  it('rejects unknown fields', () => {
    expect(UpdatePairSchema.safeParse({ colour: 'red' }).success).toBe(false);
  });
});

describe('job catalog', () => {
  it('parses a sync-run payload and rejects one without a run id', () => {
    const ids = { runId: crypto.randomUUID(), pairId: crypto.randomUUID() };
    expect(parseJobPayload('sync-run', ids)).toEqual(ids);
    expect(() => parseJobPayload('sync-run', { pairId: ids.pairId })).toThrow(/runId/);
    expect(JOBS['sync-run'].attempts).toBeGreaterThan(0);
  });
});

describe('WsEventSchema', () => {
  it('discriminates on type', () => {
    const event = WsEventSchema.parse({
      type: 'run.paused',
      runId: crypto.randomUUID(),
      pairId: crypto.randomUUID(),
    });
    expect(event.type).toBe('run.paused');
    expect(WsEventSchema.safeParse({ type: 'run.exploded' }).success).toBe(false);
  });
});

describe('RunControlMessageSchema', () => {
  it('carries pause, resume and cancel, and no conflict decisions (a run never waits for one)', () => {
    const runId = '00000000-0000-4000-8000-000000000001';
    for (const type of ['pause', 'resume', 'cancel']) {
      expect(RunControlMessageSchema.safeParse({ type, runId }).success).toBe(true);
    }
    const decision = { type: 'conflict.decision', runId, conflictId: runId, path: 'a', resolution: 'source' };
    expect(RunControlMessageSchema.safeParse(decision).success).toBe(false);
  });
});

describe('RunActionQuerySchema', () => {
  it('takes action types repeated or comma-separated', () => {
    expect(RunActionQuerySchema.parse({ type: 'UPLOAD_NEW,DELETE_SOURCE' }).type).toEqual([
      'UPLOAD_NEW',
      'DELETE_SOURCE',
    ]);
    expect(RunActionQuerySchema.parse({ type: ['UPLOAD_NEW', 'CONFLICT'], status: 'failed' })).toMatchObject({
      type: ['UPLOAD_NEW', 'CONFLICT'],
      status: ['failed'],
      limit: 100,
    });
    expect(RunActionQuerySchema.parse({}).type).toBeUndefined();
  });

  it('names the parameter with a value it does not know', () => {
    const badType = RunActionQuerySchema.safeParse({ type: 'UPLOAD_NEW,FLY_AWAY' });
    expect(badType.error?.issues[0]?.path).toEqual(['type', 1]);
    const badStatus = RunActionQuerySchema.safeParse({ status: 'ok' });
    expect(badStatus.error?.issues[0]?.path).toEqual(['status', 0]);
  });
});

describe('PairSchema', () => {
  it('answers locations with the names of their stored secrets and nothing else about them', () => {
    const now = new Date().toISOString();
    const pair = PairSchema.parse({
      id: crypto.randomUUID(),
      ...CreatePairSchema.parse({
        name: 'x',
        source: local('/a'),
        destination: local('/b'),
      }),
      source: { type: 'webdav', url: 'https://dav.example', username: 'u', secretsSet: ['password'] },
      destination: { ...local('/b'), secretsSet: [] },
      createdAt: now,
      updatedAt: now,
      lastRun: null,
      nextRunAt: null,
    });
    expect(pair.source).toEqual({
      type: 'webdav',
      url: 'https://dav.example',
      username: 'u',
      secretsSet: ['password'],
    });
  });
});
