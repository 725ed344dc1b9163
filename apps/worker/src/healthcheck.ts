// The worker image's HEALTHCHECK: judges the report the worker writes to WORKER_HEALTH_FILE
// (see health.ts). Exit 0 healthy, 1 unhealthy (Docker's convention), naming the problem.
import { readFile } from 'node:fs/promises';
import { judgeHealthReport } from './health.js';

async function check(): Promise<string | null> {
  const file = process.env.WORKER_HEALTH_FILE;
  if (!file) return 'WORKER_HEALTH_FILE is not set, so the worker writes no health reports';
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  return judgeHealthReport(text, Date.now());
}

check().then(
  (problem) => {
    if (problem) process.stderr.write(`unhealthy: ${problem}\n`);
    process.exit(problem ? 1 : 0);
  },
  (error: unknown) => {
    process.stderr.write(`unhealthy: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
