#!/usr/bin/env node
// Measures BullMQ worker throughput: 200 queued runs of small pairs, executed by 1, 2 and
// 4 worker processes (apps/worker/dist, WORKER_CONCURRENCY each). Prints runs per second
// (first trigger → last run finished) and the queue latency (trigger → run started, from
// the runs table) at p50 and p95, while the runs wait in a backlog, and the workers' CPU time
// per run (from /proc, steadier than the rates on a shared machine); then the latency of
// the queue itself, with runs triggered one at a time on an idle worker.
//
//   node bench/queue.mjs [--runs 200] [--workers 1,2,4] [--concurrency 2]
//                        [--database-url postgres://…] [--redis-url redis://…]
//
// Each round gets fresh pairs (three small files each) and its own BullMQ prefix; a fresh
// database is created for the benchmark and dropped at the end. Only this benchmark's
// Redis keys are deleted.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const workerEntry = join(repoRoot, 'apps', 'worker', 'dist', 'main.js');

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '200' },
    workers: { type: 'string', default: '1,2,4' },
    concurrency: { type: 'string', default: '2' },
    'database-url': {
      type: 'string',
      default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    },
    'redis-url': { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
    /** Write V8 CPU profiles of the workers to this folder (`node --cpu-prof`). */
    'cpu-prof': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(
    'usage: node bench/queue.mjs [--runs 200] [--workers 1,2,4] [--concurrency 2] [--database-url URL] [--redis-url URL] [--cpu-prof DIR]',
  );
  process.exit(0);
}
const runCount = Number(values.runs);
const workerCounts = values.workers.split(',').map(Number);
const concurrency = Number(values.concurrency);
const redisUrl = values['redis-url'];

const needsBuild = ['apps/worker', 'packages/queue-redis', 'packages/runs', 'packages/db'].some(
  (dir) => !existsSync(join(repoRoot, dir, 'dist', dir.startsWith('apps') ? 'main.js' : 'index.js')),
);
if (needsBuild) {
  console.log('building the worker…');
  const build = spawnSync('pnpm', ['--filter', '@syncengine/worker...', 'build'], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

// The built workspace packages, resolved as the worker resolves them.
const requireFromWorker = createRequire(join(repoRoot, 'apps', 'worker', 'package.json'));
const load = (name) => import(pathToFileURL(requireFromWorker.resolve(name)).href);
const { createDatabase, createPairRepo, createRunRepo } = await load('@syncengine/db');
const { createBullQueue, createRedisEventBus } = await load('@syncengine/queue-redis');
const { createRunLauncher } = await load('@syncengine/runs');
const pg = (
  await import(
    pathToFileURL(createRequire(join(repoRoot, 'packages', 'db', 'package.json')).resolve('pg')).href
  )
).default;
const { Redis } = await import(pathToFileURL(requireFromWorker.resolve('ioredis')).href);

const baseUrl = values['database-url'];
const dbName = `se_bench_queue_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: baseUrl });
await admin.connect();
await admin.query(`create database "${dbName}"`);
const databaseUrl = Object.assign(new URL(baseUrl), { pathname: `/${dbName}` }).toString();
const database = await createDatabase({ url: databaseUrl });
const pairs = createPairRepo(database.db);
const runs = createRunRepo(database.db);
const work = await mkdtemp(join(tmpdir(), 'syncengine-queue-bench-'));
const prefixes = [];
const children = new Set();

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function spawnWorker(prefix) {
  const profileArgs = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : [];
  const child = spawn(process.execPath, [...profileArgs, workerEntry], {
    cwd: work,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME ?? work,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      SYNCENGINE_QUEUE_PREFIX: prefix,
      SYNCENGINE_ALLOWED_ROOTS: work,
      WORKER_CONCURRENCY: String(concurrency),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Resolves once the worker logs that it takes jobs. */
function whenReady(child) {
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      buffered += chunk;
      if (buffered.includes('"msg":"worker ready"')) resolve();
      // Keep only the tail: the worker logs two lines per run.
      buffered = buffered.slice(-200);
    });
    child.once('exit', (code) => reject(new Error(`a worker exited (${code}) before it was ready`)));
  });
}

/**
 * A worker process's CPU time so far (user + system, from /proc): on a machine shared with
 * other work, runs/s falls with the load while the CPU time per run stays put.
 */
function cpuSeconds(child) {
  try {
    const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

async function round(workerCount, { paceMs = 0, count = runCount } = {}) {
  const prefix = `se-bench-${randomBytes(3).toString('hex')}`;
  prefixes.push(prefix);
  const roundPairs = [];
  for (let index = 0; index < count; index += 1) {
    const dir = join(work, prefix, String(index));
    await mkdir(join(dir, 'source'), { recursive: true });
    await mkdir(join(dir, 'destination'), { recursive: true });
    for (const name of ['a.txt', 'b.txt', 'c.txt'])
      await writeFile(join(dir, 'source', name), `${name} ${index}`);
    roundPairs.push(
      await pairs.create({
        name: `${prefix}-${index}`,
        source: { type: 'local', path: join(dir, 'source') },
        destination: { type: 'local', path: join(dir, 'destination') },
        mode: 'TWO_WAY',
        comparisonMode: 'HASH_THEN_MTIME',
        conflictResolution: 'NEWEST_WINS',
        ignorePatterns: [],
        concurrency: { transfers: 4, operations: 8 },
        maxDeletePercent: 50,
        schedule: null,
        enabled: true,
        watch: { enabled: false, debounceMs: 1_000, rescanMinutes: 60, pollSeconds: 60 },
      }),
    );
  }
  const queue = createBullQueue({ connection: redisUrl, prefix });
  const bus = createRedisEventBus({ connection: redisUrl, prefix });
  const launcher = createRunLauncher({ runs, queue, bus });
  const workers = Array.from({ length: workerCount }, () => spawnWorker(prefix));
  await Promise.all(workers.map(whenReady));
  const cpuBefore = workers.map(cpuSeconds);

  const runIds = [];
  for (const pair of roundPairs) {
    runIds.push((await launcher.launch(pair.id, { trigger: 'manual' })).run.id);
    if (paceMs > 0) await sleep(paceMs);
  }
  let finished = [];
  for (const deadline = Date.now() + 300_000; ; await sleep(200)) {
    finished = await Promise.all(runIds.map((id) => runs.get(id)));
    if (finished.every((run) => run && ['completed', 'failed', 'cancelled'].includes(run.status))) break;
    if (Date.now() > deadline) throw new Error('runs did not finish within 5 minutes');
  }
  const cpuMs =
    (workers.reduce((sum, worker, index) => sum + cpuSeconds(worker) - cpuBefore[index], 0) * 1_000) / count;
  for (const worker of workers) worker.kill('SIGTERM');
  await Promise.all(
    workers.map(
      (worker) =>
        new Promise((resolve) => (worker.exitCode !== null ? resolve() : worker.once('exit', resolve))),
    ),
  );
  await queue.close();
  await bus.close();

  const failed = finished.filter((run) => run.status !== 'completed');
  const firstQueued = Math.min(...finished.map((run) => Date.parse(run.queuedAt)));
  const lastFinished = Math.max(...finished.map((run) => Date.parse(run.finishedAt)));
  const latencies = finished
    .map((run) => Date.parse(run.startedAt) - Date.parse(run.queuedAt))
    .sort((x, y) => x - y);
  const durations = finished
    .map((run) => Date.parse(run.finishedAt) - Date.parse(run.startedAt))
    .sort((x, y) => x - y);
  return {
    workers: workerCount,
    runP50: percentile(durations, 50),
    runsPerSecond: count / ((lastFinished - firstQueued) / 1_000),
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    failed: failed.length,
    cpuMs,
  };
}

const results = [];
let idle = null;
try {
  for (const count of workerCounts) {
    process.stdout.write(`${count} worker(s)… `);
    const result = await round(count);
    results.push(result);
    console.log(`${result.runsPerSecond.toFixed(1)} runs/s`);
  }
  // Latency of the queue itself: runs triggered one at a time while a worker is idle.
  process.stdout.write('idle latency, 1 worker… ');
  idle = await round(1, { paceMs: 300, count: 30 });
  console.log(`p50 ${idle.p50} ms`);
} finally {
  for (const child of children) child.kill('SIGKILL');
  await database.close();
  await admin.query(`drop database if exists "${dbName}" with (force)`);
  await admin.end();
  const client = new Redis(redisUrl);
  for (const prefix of prefixes) {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1_000);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  }
  client.disconnect();
  await rm(work, { recursive: true, force: true });
}

console.log(`\n${runCount} runs of 3-file pairs, WORKER_CONCURRENCY=${concurrency} per worker process\n`);
console.log(
  'workers | runs/s | queue latency p50 | p95      | run start → end p50 | worker CPU per run | failed',
);
console.log(
  '--------|--------|-------------------|----------|---------------------|--------------------|-------',
);
for (const r of results) {
  console.log(
    `${String(r.workers).padEnd(7)} | ${r.runsPerSecond.toFixed(1).padStart(6)} | ${`${r.p50} ms`.padStart(17)} | ${`${r.p95} ms`.padStart(8)} | ${`${r.runP50} ms`.padStart(19)} | ${`${r.cpuMs.toFixed(1)} ms`.padStart(18)} | ${r.failed}`,
  );
}
console.log(
  `\nTrigger → start on an idle worker (30 runs, one every 300 ms): p50 ${idle.p50} ms, p95 ${idle.p95} ms`,
);
// The targets: trigger → start p95 < 100 ms on an idle worker; ≥ 40 runs/s with two workers.
const two = results.find((result) => result.workers === 2);
console.log(`\nTargets (load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores):`);
console.log(
  `  trigger → start p95 < 100 ms on an idle worker: ${idle.p95} ms — ${idle.p95 < 100 ? 'met' : 'not met'}`,
);
if (two) {
  console.log(
    `  ≥ 40 runs/s with two workers: ${two.runsPerSecond.toFixed(1)} runs/s — ${two.runsPerSecond >= 40 ? 'met' : 'not met'}`,
  );
}
