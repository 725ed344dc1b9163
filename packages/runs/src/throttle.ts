/**
 * Calls `send` at most once per `intervalMs` with the latest value; a value that arrives
 * in between is sent at the end of the interval (nothing is lost but intermediate states).
 */
export function createThrottle<T>(intervalMs: number, send: (value: T) => void) {
  let lastSent = Number.NEGATIVE_INFINITY;
  let pending: { value: T } | null = null;
  let timer: NodeJS.Timeout | null = null;
  const flush = () => {
    timer = null;
    if (!pending) return;
    const { value } = pending;
    pending = null;
    lastSent = Date.now();
    send(value);
  };
  return {
    push(value: T) {
      pending = { value };
      const wait = lastSent + intervalMs - Date.now();
      if (wait <= 0) flush();
      else timer ??= setTimeout(flush, wait);
    },
    /** Sends what is pending now. */
    flush() {
      if (timer) clearTimeout(timer);
      flush();
    },
    /** Counts as a send now: the next value waits a whole interval. */
    markSent() {
      lastSent = Date.now();
    },
    /** Drops what is pending. */
    cancel() {
      if (timer) clearTimeout(timer);
      timer = null;
      pending = null;
    },
  };
}
