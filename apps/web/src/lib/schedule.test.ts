import { describe, expect, it } from 'vitest';
import { describeSchedule, nextRunOf } from './schedule.js';

describe('describeSchedule', () => {
  it('reads an empty schedule as none', () => {
    expect(describeSchedule('')).toEqual({ kind: 'none' });
    expect(describeSchedule('   ')).toEqual({ kind: 'none' });
    expect(describeSchedule(null)).toEqual({ kind: 'none' });
  });

  it('describes a valid expression in words with its next run', () => {
    const preview = describeSchedule('0 * * * *', new Date('2025-03-01T10:15:00Z'));
    expect(preview.kind).toBe('valid');
    if (preview.kind !== 'valid') return;
    expect(preview.description).toBe('Every hour');
    expect(preview.nextRun?.getMinutes()).toBe(0);
    expect(preview.nextRun!.getTime()).toBeGreaterThan(Date.parse('2025-03-01T10:15:00Z'));
  });

  it('rejects a wrong number of fields with a message that says how many there are', () => {
    const preview = describeSchedule('* * *');
    expect(preview).toEqual({
      kind: 'invalid',
      message: 'A cron expression has 5 or 6 fields; this one has 3.',
    });
  });

  it('rejects values out of range', () => {
    expect(describeSchedule('99 * * * *').kind).toBe('invalid');
  });

  it('computes the next run of a daily schedule', () => {
    const next = nextRunOf('30 2 * * *', new Date(2025, 0, 1, 12, 0, 0));
    expect(next).toEqual(new Date(2025, 0, 2, 2, 30, 0));
  });
});
