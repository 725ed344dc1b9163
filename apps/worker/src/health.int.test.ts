import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  canReachPostgres,
  canReachRedis,
  requireService,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
} from '@syncengine/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, waitUntil } from '../test/testing/worker-process.js';
import { checkHealth, type HealthReport, startHealthReports } from './health.js';

const hasPostgres = await requireService('Postgres', () => canReachPostgres(TEST_DATABASE_URL));
const hasRedis = await requireService('Redis', () => canReachRedis(TEST_REDIS_URL));
const HEALTHCHECK = fileURLToPath(new URL('./healthcheck.ts', import.meta.url));
const HEALTH = fileURLToPath(new URL('./health.ts', import.meta.url));

/** The image's HEALTHCHECK command, run on the report file. */
function runHealthcheck(file: string) {
  const result = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', HEALTHCHECK], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', WORKER_HEALTH_FILE: file },
    encoding: 'utf8',
  });
  return { status: result.status, stderr: result.stderr };
}

async function readReport(file: string, isReady: (report: HealthReport) => boolean): Promise<HealthReport> {
  return waitUntil(
    'a health report',
    async () => {
      const report = JSON.parse(await readFile(file, 'utf8').catch(() => 'null')) as HealthReport | null;
      return report && isReady(report) ? report : undefined;
    },
    20_000,
  );
}

describe.skipIf(!hasPostgres || !hasRedis)('worker health reports', () => {
  let dir: string;
  const pingDatabase = async () => (await canReachPostgres(TEST_DATABASE_URL)) === null;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'syncengine-health-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reports healthy while Redis and Postgres answer and every root is writable, and the health check passes', async () => {
    const root = join(dir, 'sync');
    await mkdir(root);
    const file = join(dir, 'healthy.json');
    expect(runHealthcheck(file).stderr).toContain('has not reported its health yet');
    const reports = startHealthReports({
      file,
      redisUrl: TEST_REDIS_URL,
      pingDatabase,
      roots: [root],
      intervalMs: 200,
    });
    try {
      const first = await readReport(file, () => true);
      expect(first.problems).toEqual([]);
      // Reports keep coming while the event loop runs.
      await readReport(file, (report) => report.at > first.at);
      expect(runHealthcheck(file)).toEqual({ status: 0, stderr: '' });
    } finally {
      await reports.stop();
    }
  });

  it('names each problem: Redis unreachable, Postgres not answering, a root missing; the health check fails with them', async () => {
    const file = join(dir, 'failing.json');
    const missing = join(dir, 'missing');
    const reports = startHealthReports({
      file,
      redisUrl: 'redis://127.0.0.1:1',
      pingDatabase: async () => false,
      roots: [missing],
      intervalMs: 200,
    });
    try {
      const report = await readReport(file, () => true);
      expect(report.problems).toHaveLength(3);
      expect(report.problems[0]).toMatch(/^Redis: /);
      expect(report.problems[1]).toBe('Postgres: the database does not answer');
      expect(report.problems[2]).toContain(`${missing} is not writable`);
      const result = runHealthcheck(file);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('unhealthy: Redis: ');
      expect(result.stderr).toContain(missing);
    } finally {
      await reports.stop();
    }
  });

  it('reports a root the worker user cannot write (checked as nobody, as a worker not running as root)', async () => {
    const root = join(dir, 'read-only');
    await mkdir(root);
    await chmod(root, 0o555);
    await chmod(dir, 0o755);
    const script = `import { checkHealth } from ${JSON.stringify(HEALTH)};
      const problems = await checkHealth({ pingRedis: async () => 'PONG', pingDatabase: async () => true, roots: ${JSON.stringify([root])} });
      process.stdout.write(JSON.stringify(problems));`;
    const asNobody =
      process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    const [command, ...args] = [
      ...asNobody,
      process.execPath,
      '--conditions=source',
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      script,
    ];
    const result = spawnSync(command!, args, {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
    });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual([expect.stringContaining(`${root} is not writable: EACCES`)]);
    // The same folder, writable again, passes.
    await chmod(root, 0o755);
    expect(await checkHealth({ pingRedis: async () => 'PONG', pingDatabase, roots: [root] })).toEqual([]);
  });
});
