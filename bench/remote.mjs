#!/usr/bin/env node
// Times syncengine syncing a local tree of small files to each remote backend (SFTP on
// OpenSSH, S3 on s3rver, WebDAV on `rclone serve webdav`), next to `rclone sync` to the
// same server: an initial sync and a sync with no change. Servers run on 127.0.0.1.
//
//   node bench/remote.mjs [--files 5000] [--backends sftp,s3,webdav] [--keep]
//
// syncengine runs in a child process (`node --conditions=source --import tsx`), one per
// sync, with a file state store kept between the two runs; the figure is the time of the
// sync itself (open, scan, plan, transfer, close), without Node's start-up. rclone's figure
// is its whole process. Both use 5 transfers and 10 checkers/operations at once.
// rclone's SFTP hash check after each upload (an `md5sum` command per file over SSH) is
// turned off: it costs about 0.2 s per file on OpenSSH, and syncengine checks sizes only.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const self = fileURLToPath(import.meta.url);

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '5000' },
    backends: { type: 'string', default: 'sftp,s3,webdav' },
    keep: { type: 'boolean', default: false },
    child: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.child) {
  await runChild(JSON.parse(values.child));
  process.exit(0);
}
if (values.help) {
  console.log('usage: node bench/remote.mjs [--files N] [--backends sftp,s3,webdav] [--keep]');
  process.exit(0);
}

/** One sync through the engine, in this (child) process; prints `{ ms, stats }` as JSON. */
async function runChild(job) {
  // The workspace packages are not dependencies of the root, so load their sources by path.
  const source = (pkg) => new URL(`../packages/${pkg}/src/index.ts`, import.meta.url).href;
  const { parseLocationUrl, openStorage } = await import(source('locations'));
  const { FileStateStore, sync } = await import(source('engine'));
  const started = performance.now();
  const local = await openStorage(parseLocationUrl(job.source));
  const destination = await openStorage(parseLocationUrl(job.destination, job.parseOptions), job.openOptions);
  const result = await sync({
    source: local,
    destination,
    state: new FileStateStore(job.stateDir, { fsync: false }),
    config: { mode: 'SOURCE_TO_DESTINATION', transfers: 5, operations: 10 },
  });
  await destination.close?.();
  const ms = performance.now() - started;
  console.log(
    JSON.stringify({ ms, status: result.status, errors: result.errors.length, stats: result.stats }),
  );
}

const fileCount = Number(values.files.replaceAll('_', ''));
const backends = values.backends.split(',').map((name) => name.trim());

function contentFor(index) {
  const size = 200 + ((index * 7919) % 3900);
  const line = `file ${index} `;
  return line.repeat(Math.ceil(size / line.length)).slice(0, size);
}
function pathFor(index) {
  const folder = Math.floor(index / 100);
  return `d${Math.floor(folder / 20)}/s${folder % 20}/f${index}.txt`;
}

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

async function waitForPort(port) {
  const { Socket } = await import('node:net');
  for (let i = 0; i < 100; i++) {
    const open = await new Promise((resolve) => {
      const socket = new Socket();
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
      socket.connect(port, '127.0.0.1');
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nothing listens on ${port}`);
}

async function freePort() {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
}

/** Starts a server for `backend`; returns URLs and options for syncengine and rclone. */
async function startServer(backend, work) {
  if (backend === 'sftp') {
    const sshd = ['/usr/sbin/sshd', '/usr/local/sbin/sshd'].find((path) => existsSync(path));
    if (!sshd) return null;
    const dir = join(work, 'sshd');
    await mkdir(join(dir, 'data'), { recursive: true });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client_key')]);
    execFileSync('cp', [join(dir, 'client_key.pub'), join(dir, 'authorized_keys')]);
    const port = await freePort();
    const user = execFileSync('id', ['-un']).toString().trim();
    await writeFile(
      join(dir, 'sshd_config'),
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(dir, 'host_key')}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'PasswordAuthentication no',
        'UsePAM no',
        'StrictModes no',
        'PermitRootLogin prohibit-password',
        'Subsystem sftp internal-sftp',
        'MaxSessions 50',
        'MaxStartups 50',
        '',
      ].join('\n'),
    );
    if (process.getuid?.() === 0) await mkdir('/run/sshd', { recursive: true });
    const child = spawn(sshd, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: 'ignore' });
    await waitForPort(port);
    const hostKey = execFileSync('cut', ['-d', ' ', '-f1,2', join(dir, 'host_key.pub')])
      .toString()
      .trim();
    await writeFile(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostKey}\n`);
    const data = join(dir, 'data');
    return {
      engine: (name) => ({
        destination: `sftp://${user}@127.0.0.1:${port}${data}/${name}`,
        parseOptions: { sftpKeyPath: join(dir, 'client_key') },
        openOptions: { knownHostsPath: join(dir, 'known_hosts'), connections: 5 },
      }),
      rclone: (name) =>
        `:sftp,host=127.0.0.1,port=${port},user=${user},key_file=${join(dir, 'client_key')},known_hosts_file=${join(dir, 'known_hosts')},disable_hashcheck=true:${data}/${name}`,
      stop: () => stop(child),
    };
  }
  if (backend === 's3') {
    const bin = join(repoRoot, 'packages', 'storage-s3', 'node_modules', 's3rver', 'bin', 's3rver.js');
    if (!existsSync(bin)) return null;
    const dir = join(work, 's3rver');
    await mkdir(dir, { recursive: true });
    const port = await freePort();
    // s3rver's listing tokens use DES, which Node 20 offers only through OpenSSL's legacy provider.
    const child = spawn(
      process.execPath,
      [
        '--openssl-legacy-provider',
        bin,
        '--address',
        '127.0.0.1',
        '--port',
        String(port),
        '--directory',
        dir,
        '--configure-bucket',
        'bench',
        '--silent',
      ],
      { stdio: 'ignore' },
    );
    await waitForPort(port);
    const endpoint = `http://127.0.0.1:${port}`;
    return {
      engine: (name) => ({
        destination: `s3://bench/${name}`,
        parseOptions: { s3Endpoint: endpoint },
        openOptions: { env: { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' } },
      }),
      rclone: (name) =>
        `:s3,provider=Other,endpoint='${endpoint}',access_key_id=S3RVER,secret_access_key=S3RVER,force_path_style=true:bench/${name}`,
      stop: () => stop(child),
    };
  }
  if (backend === 'webdav') {
    if (!has('rclone')) return null;
    const dir = join(work, 'webdav');
    await mkdir(join(dir, 'data'), { recursive: true });
    const port = await freePort();
    const child = spawn(
      'rclone',
      ['serve', 'webdav', join(dir, 'data'), '--addr', `127.0.0.1:${port}`, '--config', '/dev/null'],
      { stdio: 'ignore' },
    );
    await waitForPort(port);
    return {
      engine: (name) => ({
        destination: `webdav://127.0.0.1:${port}/${name}`,
        parseOptions: {},
        openOptions: { connections: 10 },
      }),
      rclone: (name) => `:webdav,url='http://127.0.0.1:${port}':${name}`,
      stop: () => stop(child),
    };
  }
  throw new Error(`unknown backend ${backend}`);
}

function runEngine(job) {
  const result = spawnSync(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', '--no-warnings', self, '--child', JSON.stringify(job)],
    { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (result.status !== 0) throw new Error(`syncengine failed:\n${result.stderr}`);
  const line = result.stdout.trim().split('\n').pop();
  return JSON.parse(line);
}

function runRclone(source, destination) {
  const started = performance.now();
  const result = spawnSync(
    'rclone',
    ['sync', source, destination, '--transfers', '5', '--checkers', '10', '--config', '/dev/null', '-q'],
    // rclone reads AWS_CA_BUNDLE and cannot apply it to its own HTTP transport.
    { encoding: 'utf8', env: { ...process.env, AWS_CA_BUNDLE: '' } },
  );
  if (result.status !== 0) throw new Error(`rclone sync failed:\n${result.stderr}`);
  return performance.now() - started;
}

const work = await mkdtemp(join(tmpdir(), 'syncengine-bench-remote-'));
const source = join(work, 'source');
console.log(`creating ${fileCount} files in ${source}`);
for (let i = 0; i < fileCount; i++) {
  const path = join(source, pathFor(i));
  if (i % 100 === 0) await mkdir(dirname(path), { recursive: true });
  await writeFile(path, contentFor(i));
}

const rows = [];
process.on('exit', () => {
  if (!values.keep) spawnSync('rm', ['-rf', work]);
});
for (const backend of backends) {
  const server = await startServer(backend, work);
  if (!server) {
    console.log(`${backend}: server not available, skipped`);
    continue;
  }
  try {
    const job = { source, stateDir: join(work, `state-${backend}`), ...server.engine('engine') };
    const initial = runEngine(job);
    const idle = runEngine(job);
    const row = {
      backend,
      engineInitial: initial.ms,
      engineNoChange: idle.ms,
      engineErrors: initial.errors + idle.errors,
      uploaded: initial.stats.actions.UPLOAD_NEW ?? 0,
    };
    if (has('rclone')) {
      row.rcloneInitial = runRclone(source, server.rclone('rclone'));
      row.rcloneNoChange = runRclone(source, server.rclone('rclone'));
    }
    rows.push(row);
    console.log(JSON.stringify(row));
  } finally {
    await server.stop();
  }
}

const seconds = (ms) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`);
console.log(`\n${fileCount} files, local → remote (127.0.0.1)\n`);
console.log(
  '| backend | syncengine initial | syncengine no change | rclone sync initial | rclone sync no change |',
);
console.log('|---|---|---|---|---|');
for (const row of rows) {
  console.log(
    `| ${row.backend} | ${seconds(row.engineInitial)} | ${seconds(row.engineNoChange)} | ${seconds(row.rcloneInitial)} | ${seconds(row.rcloneNoChange)} |`,
  );
}
