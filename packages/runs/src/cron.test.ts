import { describe, expect, it } from 'vitest';
import { nextScheduledRun } from './cron.js';

describe('nextScheduledRun', () => {
  it('gives the next time the expression matches after the moment given', () => {
    const from = new Date(2030, 0, 15, 10, 17, 30);
    expect(nextScheduledRun('*/5 * * * *', from)).toEqual(new Date(2030, 0, 15, 10, 20, 0));
    expect(nextScheduledRun('0 3 * * *', from)).toEqual(new Date(2030, 0, 16, 3, 0, 0));
    expect(nextScheduledRun('* * * * * *', from)).toEqual(new Date(2030, 0, 15, 10, 17, 31));
  });
});
