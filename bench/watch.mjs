#!/usr/bin/env node
// Watched pairs: `syncengine watch` (the same PairWatcher and incremental runs the server
// and workers use) on a two-way pair of local folders.
//   - latency: a single file created, edited, renamed or deleted on one side, until the other
//     side holds the change (p50 / p95 per kind and direction), with --debounce 300;
//   - idle: CPU time of the watching process over a minute with no change;
//   - burst: 2 000 files copied in at once: how many runs until they are all across;
//   - memory: resident memory a process adds by watching a tree of 100 000 files (no run);
//   - Unison `-repeat watch`, where this machine's unison has unison-fsmonitor.
// With `--via server`, the latency only, through the embedded server instead: a watched pair
// (debounceMs 300) created through the API, watched by the server's watch service, its runs
// queued and executed by the embedded worker.
//
//   node bench/watch.mjs [--files 20000] [--repeat 10] [--idle-seconds 60] [--memory-files 100000]
//                        [--only pair|memory|unison] [--via cli|server]
//
// Runs the CLI and the server from source (tsx), so nothing needs building first.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(repoRoot, 'apps', 'cli', 'src', 'main.ts');
const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '20000' },
    repeat: { type: 'string', default: '10' },
    'idle-seconds': { type: 'string', default: '60' },
    'memory-files': { type: 'string', default: '100000' },
    only: { type: 'string' },
    via: { type: 'string', default: 'cli' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(
    'usage: node bench/watch.mjs [--files N] [--repeat N] [--idle-seconds S] [--memory-files N] [--only pair|memory|unison] [--via cli|server]',
  );
  process.exit(0);
}
if (values.via !== 'cli' && values.via !== 'server') {
  console.error(`--via must be cli or server, not ${values.via}`);
  process.exit(2);
}
const fileCount = Number(values.files);
const repeat = Number(values.repeat);
const idleSeconds = Number(values['idle-seconds']);
const memoryFiles = Number(values['memory-files']);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line) => process.stdout.write(`${line}\n`);

async function makeTree(root, count, prefix = 'f') {
  for (let dir = 0; dir * 100 < count; dir++) {
    const folder = join(root, `d${Math.floor(dir / 20)}`, `s${dir % 20}`);
    await mkdir(folder, { recursive: true });
    const writes = [];
    for (let index = dir * 100; index < Math.min(count, dir * 100 + 100); index++) {
      writes.push(writeFile(join(folder, `${prefix}${index}.txt`), `file ${index} `.repeat(20)));
    }
    await Promise.all(writes);
  }
}

function startWatch(src, dst, work) {
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', main, 'watch', src, dst, '--json', '--debounce', '300'],
    { cwd: repoRoot, env: { ...process.env, XDG_STATE_HOME: join(work, 'state') } },
  );
  const lines = [];
  let buffered = '';
  child.stdout.on('data', (chunk) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop();
    for (const part of parts) if (part.trim()) lines.push(JSON.parse(part));
  });
  child.stderr.on('data', (chunk) => process.stderr.write(chunk));
  const exited = new Promise((resolve) => child.on('close', resolve));
  return { child, lines, exited };
}

async function until(probe, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await sleep(10);
  }
  throw new Error('timed out');
}

const exists = (path) =>
  stat(path).then(
    () => true,
    () => false,
  );
const contentIs = (path, text) =>
  readFile(path, 'utf8').then(
    (content) => content === text,
    () => false,
  );
const cpuMs = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, at 100 ticks/s
};
const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

/** The time from a single change on one side until the other side holds it, per kind and direction. */
async function measureLatencies(src, dst) {
  const latencies = {};
  const measure = async (name, act, arrived) => {
    const at = performance.now();
    await act();
    await until(arrived);
    latencies[name] = [...(latencies[name] ?? []), performance.now() - at];
    await sleep(400);
  };
  for (const [from, to, label] of [
    [src, dst, 'source → destination'],
    [dst, src, 'destination → source'],
  ]) {
    for (let index = 0; index < repeat; index++) {
      const name = `x${label[0]}${index}.txt`;
      await measure(
        `create ${label}`,
        () => writeFile(join(from, 'd0', name), 'new'),
        () => contentIs(join(to, 'd0', name), 'new'),
      );
      await measure(
        `edit ${label}`,
        () => writeFile(join(from, 'd0', name), 'edited'),
        () => contentIs(join(to, 'd0', name), 'edited'),
      );
      await measure(
        `rename ${label}`,
        () => rename(join(from, 'd0', name), join(from, 'd0', `r${name}`)),
        () => exists(join(to, 'd0', `r${name}`)),
      );
      await measure(
        `delete ${label}`,
        () => rm(join(from, 'd0', `r${name}`)),
        async () => !(await exists(join(to, 'd0', `r${name}`))),
      );
    }
  }
  log('\nLatency until the other side holds the change (ms), debounce 300:');
  log('| change | p50 | p95 | max |');
  log('| --- | ---: | ---: | ---: |');
  for (const [name, values] of Object.entries(latencies)) {
    log(
      `| ${name} | ${percentile(values, 50).toFixed(0)} | ${percentile(values, 95).toFixed(0)} | ${Math.max(...values).toFixed(0)} |`,
    );
  }

  log(
    `load average (1, 5, 15 min): ${loadavg()
      .map((value) => value.toFixed(1))
      .join(', ')}`,
  );
}

async function watchedPair() {
  const work = await mkdtemp(join(tmpdir(), 'syncengine-bench-watch-'));
  const src = join(work, 'src');
  const dst = join(work, 'dst');
  log(`making ${fileCount} files…`);
  await makeTree(src, fileCount);
  const watch = startWatch(src, dst, work);
  const started = Date.now();
  await until(() => watch.lines.some((line) => line.type === 'run'), 600_000);
  log(`first full run: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  await measureLatencies(src, dst);

  await sleep(2000);
  const runsBefore = watch.lines.filter((line) => line.type === 'run').length;
  const cpuBefore = cpuMs(watch.child.pid);
  await sleep(idleSeconds * 1000);
  const cpuUsed = cpuMs(watch.child.pid) - cpuBefore;
  const idleRuns = watch.lines.filter((line) => line.type === 'run').length - runsBefore;
  log(
    `\nIdle ${idleSeconds} s: ${cpuUsed.toFixed(0)} ms CPU = ${((cpuUsed / (idleSeconds * 1000)) * 100).toFixed(2)} % of one core; runs meanwhile: ${idleRuns}`,
  );

  const burstRunsBefore = watch.lines.filter((line) => line.type === 'run').length;
  const burstAt = performance.now();
  const burst = join(work, 'burst');
  await makeTree(burst, 2000, 'b');
  await rename(burst, join(src, 'burst'));
  await until(async () => exists(join(dst, 'burst', 'd0', 's19', 'b1999.txt')), 600_000);
  await sleep(3000);
  const burstRuns = watch.lines.filter((line) => line.type === 'run').slice(burstRunsBefore);
  log(
    `Burst of 2 000 files (made elsewhere, moved in): across in ${((performance.now() - burstAt) / 1000).toFixed(1)} s, ${burstRuns.length} run(s)`,
  );

  const copyRunsBefore = watch.lines.filter((line) => line.type === 'run').length;
  const copyAt = performance.now();
  await makeTree(join(src, 'copied'), 2000, 'c');
  await until(async () => exists(join(dst, 'copied', 'd0', 's19', 'c1999.txt')), 600_000);
  await sleep(3000);
  const copyRuns = watch.lines.filter((line) => line.type === 'run').slice(copyRunsBefore);
  log(
    `2 000 files written into the watched folder one by one: across in ${((performance.now() - copyAt) / 1000).toFixed(1)} s, ${copyRuns.length} run(s)`,
  );

  watch.child.kill('SIGINT');
  const code = await watch.exited;
  log(`watch stopped with exit code ${code}`);
  await rm(work, { recursive: true, force: true });
}

async function watchMemory() {
  const work = await mkdtemp(join(tmpdir(), 'syncengine-bench-watchmem-'));
  log(`\nmaking ${memoryFiles} files for the memory figure…`);
  await makeTree(join(work, 'tree'), memoryFiles);
  const script = `
    import { PairWatcher } from '@syncengine/watch';
    import { LocalStorage } from '@syncengine/storage-local';
    const root = ${JSON.stringify(join(work, 'tree'))};
    const other = ${JSON.stringify(join(work, 'other'))};
    const { mkdirSync } = await import('node:fs');
    mkdirSync(other, { recursive: true });
    global.gc?.();
    await new Promise((r) => setTimeout(r, 500));
    const before = process.memoryUsage().rss;
    const watcher = new PairWatcher({ source: new LocalStorage(root), destination: new LocalStorage(other), initialRun: false, run: async () => undefined });
    const at = performance.now();
    await watcher.start();
    const took = performance.now() - at;
    global.gc?.();
    await new Promise((r) => setTimeout(r, 2000));
    const after = process.memoryUsage().rss;
    console.log(JSON.stringify({ before, after, took, modes: watcher.status.modes }));
    await watcher.stop();
  `;
  const result = spawnSync(
    process.execPath,
    ['--expose-gc', '--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script],
    {
      cwd: join(repoRoot, 'packages', 'watch'),
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) throw new Error(result.stderr);
  const { before, after, took, modes } = JSON.parse(result.stdout.trim().split('\n').pop());
  log(
    `Watching ${memoryFiles} files (${memoryFiles / 100} folders, ${modes.source}): +${((after - before) / 2 ** 20).toFixed(1)} MB resident (${(before / 2 ** 20).toFixed(0)} → ${(after / 2 ** 20).toFixed(0)} MB), set up in ${(took / 1000).toFixed(1)} s`,
  );
  await rm(work, { recursive: true, force: true });
}

function unison() {
  const hasUnison = spawnSync('unison', ['-version'], { encoding: 'utf8' }).status === 0;
  const hasMonitor =
    existsSync('/usr/bin/unison-fsmonitor') ||
    spawnSync('sh', ['-c', 'command -v unison-fsmonitor']).status === 0;
  if (!hasUnison) log('\nUnison: not installed.');
  else if (!hasMonitor)
    log(
      "\nUnison: installed, but without unison-fsmonitor (Debian's package does not ship it), so `-repeat watch` cannot run here.",
    );
  else log('\nUnison with unison-fsmonitor is installed: not measured by this script yet.');
}

/**
 * The embedded server from source on its own data folder (PGlite, in-process queue and
 * leases), a watched two-way pair created through the API, then the same latency figures.
 */
async function serverPair() {
  const work = await mkdtemp(join(tmpdir(), 'syncengine-bench-watchsrv-'));
  const src = join(work, 'src');
  const dst = join(work, 'dst');
  await mkdir(dst, { recursive: true });
  log(`making ${fileCount} files…`);
  await makeTree(src, fileCount);
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const password = 'bench password';
  const server = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', join(repoRoot, 'apps', 'server', 'src', 'main.ts')],
    {
      cwd: join(repoRoot, 'apps', 'server'),
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        SYNCENGINE_DATA_DIR: join(work, 'data'),
        SYNCENGINE_ALLOWED_ROOTS: work,
        SYNCENGINE_ADMIN_PASSWORD: password,
        SYNCENGINE_EMBEDDED_WORKER: 'true',
        LOG_LEVEL: 'warn',
        DATABASE_URL: '',
        REDIS_URL: '',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise((resolve) => server.once('exit', resolve));
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
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    });
    const cookie = login.headers.get('set-cookie').split(';')[0];
    const api = async (method, path, body) => {
      const response = await fetch(`${base}/api/v1${path}`, {
        method,
        headers: { 'content-type': 'application/json', cookie },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
      return response.json();
    };
    const started = Date.now();
    const pair = await api('POST', '/pairs', {
      name: 'bench watch',
      source: { type: 'local', path: src },
      destination: { type: 'local', path: dst },
      watch: { enabled: true, debounceMs: 300 },
    });
    await until(async () => (await api('GET', `/pairs/${pair.id}/status`)).watch?.lastRunAt != null, 600_000);
    log(`first full run (through the server): ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await sleep(2000);
    await measureLatencies(src, dst);
  } finally {
    server.kill('SIGTERM');
    await exited;
    await rm(work, { recursive: true, force: true });
  }
}

// `--only` runs one part: `pair` (latency, idle, burst), `memory` or `unison`.
const parts = { pair: values.via === 'server' ? serverPair : watchedPair, memory: watchMemory, unison };
if (values.only !== undefined && !(values.only in parts)) {
  console.error(`--only must be one of ${Object.keys(parts).join(', ')}, not ${values.only}`);
  process.exit(2);
}
for (const [name, part] of Object.entries(parts)) {
  if (values.only === undefined || values.only === name) await part();
}
