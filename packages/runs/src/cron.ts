import { CronExpressionParser } from 'cron-parser';

/** Checks a cron expression; throws with the parser's reason. */
export function assertValidCron(cron: string): void {
  CronExpressionParser.parse(cron);
}

/**
 * When a cron schedule fires next after `from`, in the same time zone the in-process
 * queue arms its timers with (the process's). Throws for an invalid expression.
 */
export function nextScheduledRun(cron: string, from: Date = new Date()): Date {
  return CronExpressionParser.parse(cron, { currentDate: from }).next().toDate();
}
