import { useEffect, useState } from 'react';
import { formatRelative, formatTime } from '../lib/format.js';

/** How often relative times are written again ("2 minutes ago" becomes "3 minutes ago"). */
const TICK_MS = 30_000;

/** The current time, updated every `tickMs` (30 s), so relative times stay true on an open page. */
export function useNow(tickMs: number = TICK_MS): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), tickMs);
    return () => clearInterval(timer);
  }, [tickMs]);
  return now;
}

/**
 * "3 minutes ago", with the exact date and time on hover; `—` when absent. `tickMs` writes
 * it again more often where seconds matter (a watched pair's last change).
 */
export function RelativeTime({
  value,
  tickMs = TICK_MS,
}: {
  value: string | number | null | undefined;
  tickMs?: number;
}) {
  const ticked = useNow(tickMs);
  // A new value is measured against the time it arrived, not the last tick: a change seen
  // just now must not read "in 20 seconds" until the next tick.
  const [seen, setSeen] = useState(() => ({ value, at: Date.now() }));
  if (seen.value !== value) setSeen({ value, at: Date.now() });
  const now = Math.max(ticked, seen.at);
  if (value === null || value === undefined) return <span>—</span>;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return <span>—</span>;
  return (
    <time dateTime={date.toISOString()} title={formatTime(value)}>
      {formatRelative(date, now)}
    </time>
  );
}
