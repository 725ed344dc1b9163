/**
 * Figures for people, shared by the dashboard and the command line so both print the same
 * units. Imports nothing, so the command line loads it (`@syncengine/contracts/units`)
 * without zod.
 */

/** Binary byte units, as the dashboard and the CLI show sizes and rates. */
const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/**
 * `1536` → `1.5 KiB`: whole bytes below 1 KiB, one decimal below 100 of a unit, none above;
 * `—` for a value that is not a byte count (negative, NaN, infinite).
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  // 1023.96 KiB would print as "1024.0 KiB": carry into the next unit instead.
  const digits = value < 100 ? 1 : 0;
  if (Number(value.toFixed(digits)) >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 100 ? 1 : 0)} ${BYTE_UNITS[unit]}`;
}

/** A transfer rate in binary units: `2.0 MiB/s`. */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** `65_000` → `1m 5s`; `3_600_000` → `1h 0m`; below a second → `850 ms`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const totalSeconds = Math.round(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (hours > 0) return `${hours}h ${minutes}m`;
  if (minutes > 0) return `${minutes}m ${seconds}s`;
  return `${seconds}s`;
}

/** A share in percent, 0–100, safe for a total of zero. */
export function percent(done: number, total: number): number {
  if (total <= 0) return done > 0 ? 100 : 0;
  return Math.min(100, Math.max(0, (done / total) * 100));
}

/** `12345` → `12 345`: grouped so large counts read at a glance. */
export function formatCount(count: number): string {
  return String(count).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}

/** `1 conflict`, `2 conflicts`, `1 015 files` (the plural is the noun + `s` unless given). */
export function plural(count: number, noun: string, pluralNoun = `${noun}s`): string {
  return `${formatCount(count)} ${count === 1 ? noun : pluralNoun}`;
}
