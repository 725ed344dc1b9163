import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chownSync, existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { areServicesRequired, withClient } from './services.js';

const run = promisify(execFile);

/** A free TCP port on 127.0.0.1 (free when asked; the caller binds it at once). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

/** Debian's Postgres server binaries (`/usr/lib/postgresql/<version>/bin`), newest first; or `PG_BIN`. */
function findPostgresBin(): string | null {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base)
    .filter((name) => existsSync(join(base, name, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(base, versions[0], 'bin') : null;
}

/**
 * A Postgres server of a test's own, on a spare port, that the test may stop and start
 * without disturbing anything else. Postgres refuses to run as root, so as root (CI) its
 * commands run as the `postgres` user.
 */
export interface OwnPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  readonly url: string;
  readonly port: number;
  /** Stops the server (`fast`: connections are ended; `immediate`: as a crash would). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  /** Stops and removes everything. */
  close(): Promise<void>;
}

/** Why a test's own Postgres cannot be started here, or null when it can. */
export function ownPostgresProblem(): string | null {
  return findPostgresBin() ? null : 'no Postgres server binaries (initdb, pg_ctl) under /usr/lib/postgresql';
}

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const bin = findPostgresBin();
  if (!bin) throw new Error(ownPostgresProblem() ?? 'no Postgres');
  const isRoot = process.getuid?.() === 0;
  const dir = await mkdtemp(join(tmpdir(), 'se-own-pg-'));
  const dataDir = join(dir, 'data');
  const asOwner = async (command: string, args: string[]) => {
    const tool = join(bin, command);
    const { stdout } = isRoot
      ? await run('runuser', ['-u', 'postgres', '--', tool, ...args], { cwd: dir })
      : await run(tool, args, { cwd: dir });
    return stdout;
  };
  if (isRoot) {
    // The uid/gid of `postgres` on this machine, read from the system rather than assumed.
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  await asOwner('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const options = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories=${dir}`,
    '-c fsync=off',
    '-c max_connections=100',
  ].join(' ');
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const handle: OwnPostgres = {
    url,
    port,
    async start() {
      await asOwner('pg_ctl', ['-D', dataDir, '-o', options, '-l', join(dir, 'postgres.log'), '-w', 'start']);
      await withClient(url, (client) => client.query('select 1'), 5_000);
    },
    async stop(mode = 'fast') {
      await asOwner('pg_ctl', ['-D', dataDir, '-m', mode, '-w', 'stop']);
    },
    async close() {
      await handle.stop('immediate').catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
  await handle.start();
  return handle;
}

/** A Redis server of a test's own, on a spare port, persisting to an append-only file. */
export interface OwnRedis {
  readonly url: string;
  readonly port: number;
  /** Stops the server; with `kill`, as a crash would (SIGKILL, nothing saved on the way out). */
  stop(how?: 'shutdown' | 'kill'): Promise<void>;
  start(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open and no command is answered, as when Redis hangs. */
  pause(): void;
  /** Lets a paused server go on (SIGCONT). */
  resume(): void;
  close(): Promise<void>;
}

/** Why a test's own Redis cannot be started here, or null when it can. */
export async function ownRedisProblem(): Promise<string | null> {
  try {
    await run('redis-server', ['--version']);
    return null;
  } catch {
    return 'no redis-server on PATH';
  }
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'se-own-redis-'));
  const port = await freePort();
  let child: ChildProcess | null = null;
  const url = `redis://127.0.0.1:${port}`;
  const handle: OwnRedis = {
    url,
    port,
    async start() {
      // Every write is on disk before it is acknowledged, so a restart loses no job (as
      // BullMQ's production guide asks: append-only, noeviction).
      const started = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'yes',
          '--appendfsync',
          'always',
          '--maxmemory-policy',
          'noeviction',
        ],
        { stdio: 'ignore' },
      );
      child = started;
      const deadline = Date.now() + 10_000;
      for (;;) {
        if (started.exitCode !== null) throw new Error(`redis-server exited (${started.exitCode})`);
        try {
          await run('redis-cli', ['-p', String(port), 'ping']);
          return;
        } catch {
          if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    },
    async stop(how = 'shutdown') {
      const current = child;
      if (!current || current.exitCode !== null) return;
      const exited = new Promise((resolve) => current.once('exit', resolve));
      current.kill(how === 'kill' ? 'SIGKILL' : 'SIGTERM');
      await exited;
      child = null;
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async close() {
      // A paused server must run again to act on SIGKILL's exit being reported.
      handle.resume();
      await handle.stop('kill');
      await rm(dir, { recursive: true, force: true });
    },
  };
  await handle.start();
  return handle;
}

/** Whether a test file that needs its own Postgres and Redis can run; throws under REQUIRE_SERVICES=1. */
export async function canRunOwnServices(): Promise<boolean> {
  const problem = ownPostgresProblem() ?? (await ownRedisProblem());
  if (problem === null) return true;
  if (areServicesRequired())
    throw new Error(`own test services are required (REQUIRE_SERVICES=1): ${problem}`);
  process.stderr.write(`[tests] cannot start own Postgres/Redis, skipping: ${problem}\n`);
  return false;
}
