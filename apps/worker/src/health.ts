// A worker's health, as the image's HEALTHCHECK judges it. The worker process checks what it
// needs to do its job every few seconds (Redis and Postgres answer, every allowed root is a
// folder it can write) and writes the outcome with the time to WORKER_HEALTH_FILE. The
// health check (healthcheck.ts) reads that file: a missing or failing report is unhealthy,
// and so is a stale one, which means the event loop is stuck and could not write it.
import { constants } from 'node:fs';
import { access, rename, stat, writeFile } from 'node:fs/promises';
import { Redis } from 'ioredis';

export interface HealthReport {
  /** When the checks ended (ms since the epoch). */
  at: number;
  /** What is wrong; empty when healthy. */
  problems: string[];
}

/** How often the worker checks itself. */
export const HEALTH_INTERVAL_MS = 5_000;
/** A report older than this means the worker's event loop has not run its checks. */
export const HEALTH_MAX_AGE_MS = 30_000;
const PROBE_TIMEOUT_MS = 4_000;

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function withTimeout<T>(what: string, probe: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      probe,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${what} did not answer within ${PROBE_TIMEOUT_MS} ms`)),
          PROBE_TIMEOUT_MS,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface HealthProbes {
  pingRedis(): Promise<unknown>;
  /** True when the database answers. */
  pingDatabase(): Promise<boolean>;
  /** Folders the worker must be able to write: the allowed roots. */
  roots: readonly string[];
}

/** Runs every check; returns what is wrong (empty when healthy). */
export async function checkHealth(probes: HealthProbes): Promise<string[]> {
  const checks: Array<Promise<string | null>> = [
    withTimeout('Redis', probes.pingRedis()).then(
      () => null,
      (error) => `Redis: ${message(error)}`,
    ),
    withTimeout('Postgres', probes.pingDatabase()).then(
      (ok) => (ok ? null : 'Postgres: the database does not answer'),
      (error) => `Postgres: ${message(error)}`,
    ),
    ...probes.roots.map(async (root) => {
      try {
        if (!(await stat(root)).isDirectory()) return `${root} is not a folder`;
        await access(root, constants.W_OK | constants.X_OK);
        return null;
      } catch (error) {
        return `${root} is not writable: ${message(error)}`;
      }
    }),
  ];
  return (await Promise.all(checks)).filter((problem): problem is string => problem !== null);
}

/**
 * Checks every `intervalMs` and writes each report to `file` (atomically: the health check
 * never reads half a report). Opens its own Redis connection, closed by `stop`.
 */
export function startHealthReports(options: {
  file: string;
  redisUrl: string;
  pingDatabase: () => Promise<boolean>;
  roots: readonly string[];
  intervalMs?: number;
}): { stop(): Promise<void> } {
  // A ping waits for the connection to open (or fails when an attempt fails), so the first
  // report does not count a connection still being opened as a problem.
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 0 });
  // Failures show in the reports, not as unhandled 'error' events.
  redis.on('error', () => {});
  const probes: HealthProbes = {
    pingRedis: () => redis.ping(),
    pingDatabase: options.pingDatabase,
    roots: options.roots,
  };
  let timer: NodeJS.Timeout | undefined;
  let isStopped = false;
  const report = async () => {
    const problems = await checkHealth(probes);
    const body: HealthReport = { at: Date.now(), problems };
    const temporary = `${options.file}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(body));
    await rename(temporary, options.file);
  };
  const loop = () => {
    void report()
      .catch(() => {})
      .finally(() => {
        if (!isStopped) timer = setTimeout(loop, options.intervalMs ?? HEALTH_INTERVAL_MS);
      });
  };
  loop();
  return {
    async stop() {
      isStopped = true;
      clearTimeout(timer);
      redis.disconnect();
    },
  };
}

/** What makes the report in `text` unhealthy at `now`, or null when it is healthy. */
export function judgeHealthReport(
  text: string | null,
  now: number,
  maxAgeMs = HEALTH_MAX_AGE_MS,
): string | null {
  if (text === null) return 'the worker has not reported its health yet';
  let report: HealthReport;
  try {
    report = JSON.parse(text) as HealthReport;
  } catch {
    return 'the health report cannot be read';
  }
  const age = now - report.at;
  if (!(age <= maxAgeMs)) {
    return `the last health report is ${Math.round(age / 1000)} s old: the worker is not responding`;
  }
  return report.problems.length > 0 ? report.problems.join('; ') : null;
}
