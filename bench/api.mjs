#!/usr/bin/env node
// Measures the server's HTTP throughput with autocannon: `GET /api/v1/pairs` (a list of
// pairs with their last run), signed in with a Bearer token and with the session cookie,
// and `POST /api/v1/pairs/:id/runs` (queue a run; the runs then execute in-process on tiny
// folders). The server runs from apps/server/dist (built first if missing) in a child
// process, with the embedded database (PGlite) by default or, with --database-url, a fresh
// database created on that Postgres for the benchmark and dropped after it.
//
//   node bench/api.mjs [--pairs 50] [--duration 10] [--connections 10] [--database-url postgres://…]
//                      [--queue-only] [--list-only] [--cpu-prof DIR]
//
// The list target: at least 2 000 req/s with p99 under 50 ms, with either way
// of signing in, on either database.
//
// POST /runs allows one active run per pair: a trigger for a pair whose run is still
// queued or running answers 409. The requests rotate over the pairs; the figures give the
// rate of all answers and the split between 202 (queued) and 409 (pair busy).
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
const serverEntry = join(repoRoot, 'apps', 'server', 'dist', 'main.js');
const autocannon = createRequire(join(repoRoot, 'apps', 'server', 'package.json'))('autocannon');

const { values } = parseArgs({
  options: {
    pairs: { type: 'string', default: '50' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
    port: { type: 'string', default: '18_090' },
    'database-url': { type: 'string' },
    /** Do not execute runs (SYNCENGINE_EMBEDDED_WORKER=false): measures the API path alone. */
    'queue-only': { type: 'boolean', default: false },
    /** Only measure the list (no POST /runs). */
    'list-only': { type: 'boolean', default: false },
    /** Write a V8 CPU profile of the server to this folder (`node --cpu-prof`). */
    'cpu-prof': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(
    'usage: node bench/api.mjs [--pairs 50] [--duration 10] [--connections 10] [--database-url URL] [--queue-only] [--list-only] [--cpu-prof DIR]',
  );
  process.exit(0);
}
const pairCount = Number(values.pairs);
const duration = Number(values.duration);
const connections = Number(values.connections);
const port = Number(values.port.replaceAll('_', ''));
const password = 'bench password';

if (!existsSync(serverEntry)) {
  console.log('building the server…');
  const build = spawnSync('pnpm', ['--filter', '@syncengine/server...', 'build'], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

// A database of its own on the given Postgres, so the figures do not depend on what else is there.
let databaseUrl = '';
let dropDatabase = async () => {};
if (values['database-url']) {
  const pg = (
    await import(
      pathToFileURL(createRequire(join(repoRoot, 'packages', 'db', 'package.json')).resolve('pg')).href
    )
  ).default;
  const name = `se_bench_api_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: values['database-url'] });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  databaseUrl = Object.assign(new URL(values['database-url']), { pathname: `/${name}` }).toString();
  dropDatabase = async () => {
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.end();
  };
}

const work = await mkdtemp(join(tmpdir(), 'syncengine-api-bench-'));
const profileArgs = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : [];
const server = spawn(process.execPath, [...profileArgs, serverEntry], {
  cwd: work,
  env: {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    SYNCENGINE_DATA_DIR: join(work, 'data'),
    SYNCENGINE_ALLOWED_ROOTS: work,
    SYNCENGINE_ADMIN_PASSWORD: password,
    LOG_LEVEL: 'warn',
    SYNCENGINE_EMBEDDED_WORKER: values['queue-only'] ? 'false' : 'true',
    DATABASE_URL: databaseUrl,
    REDIS_URL: '',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const stop = async () => {
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  await rm(work, { recursive: true, force: true });
  await dropDatabase();
};

try {
  await new Promise((resolve, reject) => {
    let output = '';
    server.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('SyncEngine is running')) resolve();
    });
    server.once('exit', (code) =>
      reject(new Error(`the server exited (${code}) before listening:\n${output}`)),
    );
  });
  const base = `http://127.0.0.1:${port}`;
  const api = async (method, path, body, headers = {}) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  const login = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password }),
  });
  const cookie = login.headers.get('set-cookie').split(';')[0];
  const { token } = await api('POST', '/api/v1/tokens', { name: 'bench' }, { cookie });
  const auth = { authorization: `Bearer ${token}` };

  const pairIds = [];
  for (let i = 0; i < pairCount; i += 1) {
    const source = join(work, `p${i}`, 'source');
    const destination = join(work, `p${i}`, 'destination');
    await mkdir(source, { recursive: true });
    await mkdir(destination, { recursive: true });
    await writeFile(join(source, 'note.txt'), `pair ${i}\n`);
    const pair = await api(
      'POST',
      '/api/v1/pairs',
      {
        name: `bench ${i}`,
        source: { type: 'local', path: source },
        destination: { type: 'local', path: destination },
      },
      auth,
    );
    pairIds.push(pair.id);
  }
  // One run per pair first, so the list shows a last run for every pair. The figures are
  // taken once those runs have ended: runs executing beside the list would measure the runs
  // (their CPU, and their events, each of which drops the list kept in memory).
  for (const id of pairIds) await api('POST', `/api/v1/pairs/${id}/runs`, {}, auth);
  const isRunActive = (pair) =>
    pair.lastRun !== null && ['queued', 'running', 'paused'].includes(pair.lastRun.status);
  const settleStarted = Date.now();
  while ((await api('GET', '/api/v1/pairs', undefined, auth)).items.some(isRunActive)) {
    if (Date.now() - settleStarted > 120_000) throw new Error('the first runs did not end within 120 s');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  console.log(
    `the first runs ended ${((Date.now() - settleStarted) / 1_000).toFixed(1)} s after they were queued`,
  );

  // The server's own CPU time per answer (user + system, from /proc): on a machine shared
  // with other work, req/s falls with the load while this stays put.
  const cpuSeconds = () => {
    try {
      const fields = readFileSync(`/proc/${server.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      return Number.NaN;
    }
  };
  const measure = (title, path, options = {}) =>
    new Promise((resolve, reject) => {
      const cpuBefore = cpuSeconds();
      autocannon(
        { url: `${base}${path}`, connections, duration, headers: auth, ...options },
        (error, result) => {
          if (error) reject(error);
          else
            resolve({ title, result, cpuMs: ((cpuSeconds() - cpuBefore) * 1_000) / result.requests.total });
        },
      );
    });

  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const listPath = '/api/v1/pairs';
  // A short warm-up, so the figures are not those of a server still compiling its code.
  await measure('warm-up', listPath, { duration: 2 });
  const measured = [
    await measure(`GET ${listPath} (${pairCount} pairs), Bearer token`, listPath),
    await measure(`GET ${listPath} (${pairCount} pairs), session cookie`, listPath, { headers: { cookie } }),
  ];
  let next = 0;
  if (!values['list-only'])
    measured.push(
      await measure('POST /api/v1/pairs/:id/runs', '/api/v1/pairs', {
        requests: [
          {
            method: 'POST',
            setupRequest: (request) => ({
              ...request,
              path: `/api/v1/pairs/${pairIds[next++ % pairIds.length]}/runs`,
              headers: { ...request.headers, ...auth, 'content-type': 'application/json' },
              body: '{}',
            }),
          },
        ],
      }),
    );

  const database = values['database-url'] ? 'Postgres' : 'PGlite (embedded)';
  const execution = values['queue-only'] ? 'runs queued, not executed' : 'runs executed in-process';
  console.log(
    `\nSyncEngine API throughput — ${database}, ${execution}, ${connections} connections, ${duration} s each\n`,
  );
  console.log('| request | req/s (mean) | latency p50 | latency p99 | server CPU per answer | answers |');
  console.log('|---|---|---|---|---|---|');
  for (const { title, result, cpuMs } of measured) {
    const codes = Object.entries(result.statusCodeStats ?? {})
      .map(([code, { count }]) => `${count}×${code}`)
      .join(', ');
    console.log(
      `| ${title} | ${result.requests.average.toFixed(0)} | ${result.latency.p50} ms | ${result.latency.p99} ms | ${cpuMs.toFixed(2)} ms | ${codes} |`,
    );
  }
  console.log('\nTarget for the list: ≥ 2 000 req/s with p99 < 50 ms.');
  for (const { title, result, cpuMs } of measured.slice(0, 2)) {
    const isMet = result.requests.average >= 2_000 && result.latency.p99 < 50;
    console.log(
      `  ${title}: ${result.requests.average.toFixed(0)} req/s, p99 ${result.latency.p99} ms — ${isMet ? 'met' : 'not met'} (server CPU ${cpuMs.toFixed(2)} ms per answer: at most ${(1_000 / cpuMs).toFixed(0)} req/s on one free core)`,
    );
  }
  const [loadAverage] = loadavg();
  console.log(`  load average during the run: ${loadAverage.toFixed(1)} on ${availableParallelism()} cores`);
} finally {
  await stop();
}
