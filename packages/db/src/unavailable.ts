/** Socket errors of a database that cannot be reached or went away. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/**
 * Postgres SQLSTATEs of a server that is not there for us now: connection exceptions
 * (class 08), shutting down or starting up (57P01-57P03), too many connections (53300).
 */
const isUnavailableState = (code: string) =>
  code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300';
/** What node-postgres says when a connection ends under a query or cannot be made in time. */
const DRIVER_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Cannot use a pool after calling end on the pool',
];

/**
 * True when an error (possibly wrapped by drizzle) means the database is unreachable or
 * restarting, rather than that the query was wrong: callers answer "try again later"
 * (HTTP 503) or retry, instead of treating it as a bug.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length > 0) {
    const current = pending.pop();
    if (!current || typeof current !== 'object' || seen.has(current)) continue;
    seen.add(current);
    const { code, message, cause, errors } = current as {
      code?: unknown;
      message?: unknown;
      cause?: unknown;
      errors?: unknown;
    };
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || isUnavailableState(code))) return true;
    if (typeof message === 'string' && DRIVER_MESSAGES.some((text) => message.startsWith(text))) return true;
    pending.push(cause);
    // Connecting to `localhost` tries each address; Node reports all failures together.
    if (Array.isArray(errors)) pending.push(...errors);
  }
  return false;
}
