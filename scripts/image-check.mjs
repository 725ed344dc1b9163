#!/usr/bin/env node
// Checks the Docker images' build and start commands without Docker (deploy/stack.int.test.ts
// runs the images themselves where an engine can run): validates the
// Compose file with `docker-compose config`, runs the images' build script
// (scripts/image-build.sh) in a temporary copy of the repository, then starts the server
// and a worker from the pruned production output exactly as the images do, against the
// machine's Postgres and Redis, and syncs a folder through the API.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const work = mkdtempSync(join(tmpdir(), 'syncengine-image-'));
const children = [];
const step = (message) => process.stdout.write(`image-check: ${message}\n`);

function fail(message) {
  throw new Error(message);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(what, probe, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  fail(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

function psql(sql) {
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  execFileSync('psql', [admin.toString(), '-v', 'ON_ERROR_STOP=1', '-qc', sql], { stdio: 'inherit' });
}

function validateCompose() {
  const envFile = join(work, 'compose.env');
  const example = readFileSync(join(root, '.env.example'), 'utf8');
  writeFileSync(
    envFile,
    example
      .replace(/^POSTGRES_PASSWORD=$/m, 'POSTGRES_PASSWORD=postgres-secret')
      .replace(/^SYNCENGINE_SECRET_KEY=$/m, `SYNCENGINE_SECRET_KEY=${'k'.repeat(64)}`)
      .replace(/^SYNCENGINE_ADMIN_PASSWORD=$/m, 'SYNCENGINE_ADMIN_PASSWORD=admin-secret'),
  );
  const ok = spawnSync(
    'docker-compose',
    ['--env-file', envFile, '-f', 'docker-compose.yml', 'config', '-q'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  if (ok.error) fail(`docker-compose is not installed (${ok.error.message})`);
  if (ok.status !== 0) fail('docker-compose config rejected docker-compose.yml');
  const refused = spawnSync('docker-compose', ['--env-file', join(root, '.env.example'), 'config', '-q'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (refused.status === 0 || !/is not set in \.env/.test(refused.stderr)) {
    fail(`docker-compose config accepted a stack without secrets: ${refused.stderr}`);
  }
  step('docker-compose config: valid, and refuses to start without the secrets');
}

function build() {
  const src = join(work, 'src');
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((file) => file && existsSync(join(root, file)));
  for (const file of files) {
    mkdirSync(dirname(join(src, file)), { recursive: true });
    cpSync(join(root, file), join(src, file));
  }
  step(`copied ${files.length} files; running scripts/image-build.sh`);
  const result = spawnSync('sh', ['scripts/image-build.sh', join(work, 'out')], {
    cwd: src,
    stdio: 'inherit',
    env: { ...process.env, CI: 'true' },
  });
  if (result.status !== 0) fail('scripts/image-build.sh failed');
  // The runtime images hold only the build output, never the sources.
  rmSync(src, { recursive: true, force: true });
}

function start(name, entry, env) {
  const child = spawn(process.execPath, [entry], {
    env: { PATH: process.env.PATH, HOME: work, NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = [];
  child.stdout.on('data', (chunk) => log.push(chunk));
  child.stderr.on('data', (chunk) => log.push(chunk));
  children.push({ name, child, log });
  return child;
}

async function stop({ name, child, log }) {
  if (child.exitCode !== null) fail(`${name} exited early (${child.exitCode}):\n${Buffer.concat(log)}`);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const { code, signal } = await exited;
  clearTimeout(timer);
  if (code !== 0)
    fail(`${name} did not stop cleanly on SIGTERM (code ${code}, signal ${signal}):\n${Buffer.concat(log)}`);
  step(`${name} stopped cleanly on SIGTERM`);
}

async function main() {
  validateCompose();
  build();
  const out = join(work, 'out');
  const database = `syncengine_image_${randomBytes(4).toString('hex')}`;
  psql(`create database ${database}`);
  try {
    const dbUrl = new URL(databaseUrl);
    dbUrl.pathname = `/${database}`;
    const syncRoot = join(work, 'sync');
    mkdirSync(join(syncRoot, 'a'), { recursive: true });
    mkdirSync(join(syncRoot, 'b'), { recursive: true });
    writeFileSync(join(syncRoot, 'a', 'hello.txt'), 'hello from the image check\n');
    const port = await freePort();
    const shared = {
      DATABASE_URL: dbUrl.toString(),
      REDIS_URL: redisUrl,
      SYNCENGINE_SECRET_KEY: randomBytes(32).toString('hex'),
      SYNCENGINE_ALLOWED_ROOTS: syncRoot,
      SYNCENGINE_QUEUE_PREFIX: database,
      // As set by the Dockerfile's runtime stage.
      SYNCENGINE_MIGRATIONS_DIR: join(out, 'migrations'),
    };
    const server = {
      ...shared,
      HOST: '127.0.0.1',
      PORT: String(port),
      SYNCENGINE_DATA_DIR: join(work, 'data'),
      SYNCENGINE_WEB_DIST: join(out, 'web'),
      SYNCENGINE_ADMIN_PASSWORD: 'admin-secret',
      SYNCENGINE_EMBEDDED_WORKER: 'false',
    };
    start('server', join(out, 'server', 'dist', 'main.js'), server);
    const base = `http://127.0.0.1:${port}`;
    const health = await waitFor(
      'the server to report healthy',
      async () => {
        const response = await fetch(`${base}/api/v1/health`);
        return response.ok ? response.json() : null;
      },
      60_000,
    );
    step(`server healthy: ${JSON.stringify(health)}`);
    const page = await (await fetch(`${base}/`)).text();
    if (!page.includes('<div id="root">')) fail('the server does not serve the dashboard at /');
    step('dashboard served at /');

    start('worker', join(out, 'worker', 'dist', 'main.js'), { ...shared, WORKER_CONCURRENCY: '1' });

    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'admin-secret' }),
    });
    if (!login.ok) fail(`login failed: ${login.status} ${await login.text()}`);
    const cookie = login.headers.get('set-cookie')?.split(';')[0] ?? fail('login set no cookie');
    const api = async (method, path, body) => {
      const response = await fetch(`${base}/api/v1${path}`, {
        method,
        headers: { cookie, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const json = await response.json();
      if (!response.ok) fail(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
      return json;
    };
    const pair = await api('POST', '/pairs', {
      name: 'image check',
      source: { type: 'local', path: join(syncRoot, 'a') },
      destination: { type: 'local', path: join(syncRoot, 'b') },
    });
    const run = await api('POST', `/pairs/${pair.id}/runs`, {});
    const finished = await waitFor(
      'the worker to finish the run',
      async () => {
        const current = await api('GET', `/runs/${run.id}`);
        return ['completed', 'failed', 'cancelled'].includes(current.status) ? current : null;
      },
      60_000,
    );
    if (finished.status !== 'completed') fail(`run ended ${finished.status}: ${JSON.stringify(finished)}`);
    const copied = readFileSync(join(syncRoot, 'b', 'hello.txt'), 'utf8');
    if (copied !== 'hello from the image check\n') fail('the run did not copy the file');
    step('a run through the API, executed by the worker, synced the folder');

    for (const child of children.splice(0).reverse()) await stop(child);
  } finally {
    for (const { child } of children) child.kill('SIGKILL');
    psql(`drop database if exists ${database} with (force)`);
  }
}

main()
  .then(() => {
    rmSync(work, { recursive: true, force: true });
    step('passed');
  })
  .catch((error) => {
    for (const { name, log } of children)
      process.stderr.write(`--- ${name} output ---\n${Buffer.concat(log)}\n`);
    process.stderr.write(`image-check: FAILED: ${error.message}\n`);
    rmSync(work, { recursive: true, force: true });
    process.exit(1);
  });
