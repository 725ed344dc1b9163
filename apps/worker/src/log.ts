import { scrubSecrets } from '@syncengine/engine';
import type { WorkerConfig } from './env.js';
import type { WorkerLog } from './worker.js';

const LEVELS = ['error', 'warn', 'info', 'debug'] as const;

/**
 * One JSON line per message on stdout, so logs can be collected and searched. Messages
 * often carry an error's text (a driver's error holds its query's parameters, a client's
 * its URL): every text goes through `scrubSecrets`.
 */
export function createLog(
  level: WorkerConfig['logLevel'],
  out: { write(line: string): unknown } = process.stdout,
): WorkerLog {
  const threshold = level === 'silent' ? -1 : LEVELS.indexOf(level);
  const write = (at: (typeof LEVELS)[number], msg: string, fields: Record<string, unknown> = {}) => {
    if (LEVELS.indexOf(at) > threshold) return;
    const scrubbed = Object.fromEntries(
      Object.entries(fields).map(([name, value]) => [
        name,
        typeof value === 'string' ? scrubSecrets(value) : value,
      ]),
    );
    const line = { level: at, time: Date.now(), pid: process.pid, msg: scrubSecrets(msg), ...scrubbed };
    out.write(`${JSON.stringify(line)}\n`);
  };
  return {
    info: (message, fields) => write('info', message, fields),
    warn: (message) => write('warn', message),
    error: (message) => write('error', message),
  };
}
