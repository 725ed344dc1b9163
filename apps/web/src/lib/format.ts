/** Sizes, rates, durations and shares, shared with the CLI. */
export { formatBytes, formatDuration, formatRate, percent } from '@syncengine/contracts';

/** Milliseconds between two ISO timestamps, or null while the second is missing. */
export function durationBetween(startIso: string | null, endIso: string | null): number | null {
  if (!startIso || !endIso) return null;
  return Math.max(0, Date.parse(endIso) - Date.parse(startIso));
}

/** A timestamp in the user's locale; `—` when absent. Accepts ISO strings or epoch ms. */
export function formatTime(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return '—';
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** `3 minutes ago` / `in 2 hours`, relative to `now`. */
export function formatRelative(value: string | number | Date, now: number = Date.now()): string {
  const diff = new Date(value).getTime() - now;
  const abs = Math.abs(diff);
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  if (abs < 60_000) return format.format(Math.round(diff / 1000), 'second');
  if (abs < 3_600_000) return format.format(Math.round(diff / 60_000), 'minute');
  if (abs < 86_400_000) return format.format(Math.round(diff / 3_600_000), 'hour');
  return format.format(Math.round(diff / 86_400_000), 'day');
}
