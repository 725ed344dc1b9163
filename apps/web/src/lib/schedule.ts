import { Cron } from 'croner';
import cronstrue from 'cronstrue';

export type SchedulePreview =
  | { kind: 'none' }
  | { kind: 'valid'; description: string; nextRun: Date | null }
  | { kind: 'invalid'; message: string };

/**
 * A human-readable reading of a cron expression (`0 * * * *` → "Every hour") and its next
 * run, for the schedule field. An empty text means "no schedule".
 */
export function describeSchedule(
  expression: string | null | undefined,
  now: Date = new Date(),
): SchedulePreview {
  const text = (expression ?? '').trim();
  if (text === '') return { kind: 'none' };
  const fields = text.split(/\s+/).length;
  if (fields < 5 || fields > 6) {
    return { kind: 'invalid', message: `A cron expression has 5 or 6 fields; this one has ${fields}.` };
  }
  let description: string;
  try {
    description = cronstrue.toString(text, { throwExceptionOnParseError: true, use24HourTimeFormat: true });
  } catch (error) {
    return { kind: 'invalid', message: cronMessage(error) };
  }
  return { kind: 'valid', description, nextRun: nextRunOf(text, now) };
}

/** The next time a cron expression fires after `now`, or null when it cannot be computed. */
export function nextRunOf(expression: string, now: Date = new Date()): Date | null {
  try {
    return new Cron(expression, { paused: true }).nextRun(now);
  } catch {
    return null;
  }
}

function cronMessage(error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  return raw.replace(/^Error:\s*/, '') || 'Not a valid cron expression.';
}
