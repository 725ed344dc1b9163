// The Compose stack for real: builds the images, starts docker-compose.yml as the README
// says, waits for every health check, signs in, syncs pairs under the sync mount through
// one and then three workers, resets the admin password and dumps the database with the
// image's commands, and checks that pairs and history outlive `down`/`up`. It starts
// Debian's dockerd when no engine runs, and builds local stand-ins for base images that
// cannot be pulled (deploy/base-images/). Where no engine can run, it is skipped with the
// reason. Compose publishes only the server's port, on 127.0.0.1, so the host's own
// Postgres and Redis are left alone.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Its own project (containers, network, volumes) per run, so runs from two checkouts never meet.
const PROJECT = `syncengine-smoke-${randomBytes(3).toString('hex')}`;
const MINUTE = 60_000;
/** The user the containers run as by default (PUID:PGID). */
const APP_UID = 1000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const succeeds = (command: string, args: string[], env: NodeJS.ProcessEnv = process.env) =>
  spawnSync(command, args, { stdio: 'ignore', env, timeout: 30_000 }).status === 0;

interface Engine {
  /** The Compose command: `docker compose` or Debian's `docker-compose`. */
  compose: string[];
  /** Environment for docker and Compose: BuildKit on, a BuildKit-capable docker CLI first on PATH. */
  env: NodeJS.ProcessEnv;
  /** The daemon this test started, stopped again at the end. */
  daemon: ChildProcess | null;
  /** Folder of the `docker` link put first on PATH, removed at the end. */
  cliDir: string;
}

/** A docker CLI that builds with BuildKit: one with buildx, or a client older than 23 (BuildKit built in). */
function buildKitCli(): string | null {
  const candidates = ['docker', '/usr/bin/docker', '/usr/local/bin/docker'];
  for (const cli of candidates) {
    if (succeeds(cli, ['buildx', 'version'])) return cli;
    const version = spawnSync(cli, ['version', '--format', '{{.Client.Version}}'], { encoding: 'utf8' });
    const major = Number(/^(\d+)\./.exec(version.stdout ?? '')?.[1]);
    if (version.status === 0 && major > 0 && major < 23) return cli;
  }
  return null;
}

async function findEngine(): Promise<Engine | string> {
  if (!succeeds('docker', ['--version']) && !existsSync('/usr/bin/docker')) {
    return 'no docker command (apt-get install docker.io docker-compose)';
  }
  let daemon: ChildProcess | null = null;
  if (!succeeds('docker', ['info'])) {
    if (process.getuid?.() !== 0) return 'no Docker engine runs, and only root can start dockerd';
    if (!succeeds('sh', ['-c', 'command -v dockerd'])) {
      return 'no Docker engine runs and dockerd is not installed (apt-get install docker.io)';
    }
    const logFile = join(tmpdir(), 'syncengine-smoke-dockerd.log');
    const log = openSync(logFile, 'w');
    daemon = spawn('dockerd', [], { stdio: ['ignore', log, log] });
    closeSync(log);
    const deadline = Date.now() + MINUTE;
    while (!succeeds('docker', ['info'])) {
      if (daemon.exitCode !== null || Date.now() > deadline) {
        daemon.kill('SIGTERM');
        const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n');
        return `dockerd cannot run on this machine:\n${tail}`;
      }
      await sleep(1_000);
    }
  }
  const cli = buildKitCli();
  if (!cli) {
    daemon?.kill('SIGTERM');
    return 'no docker CLI here builds with BuildKit (install the buildx plugin)';
  }
  const cliDir = mkdtempSync(join(tmpdir(), 'syncengine-smoke-bin-'));
  if (cli !== 'docker') spawnSync('ln', ['-s', cli, join(cliDir, 'docker')]);
  const env = {
    ...process.env,
    PATH: `${cliDir}${delimiter}${process.env.PATH ?? ''}`,
    DOCKER_BUILDKIT: '1',
    COMPOSE_DOCKER_CLI_BUILD: '1',
  };
  const compose = succeeds('docker', ['compose', 'version'], env)
    ? ['docker', 'compose']
    : succeeds('docker-compose', ['version'], env)
      ? ['docker-compose']
      : null;
  if (!compose) {
    daemon?.kill('SIGTERM');
    rmSync(cliDir, { recursive: true, force: true });
    return 'no Docker Compose (apt-get install docker-compose)';
  }
  return { compose, env, daemon, cliDir };
}

const engine = await findEngine();
const skipReason = typeof engine === 'string' ? engine : null;
if (skipReason) process.stderr.write(`[tests] the Compose stack is not tested: ${skipReason}\n`);

/** Runs a command, resolving with its stdout; rejects with the end of its output. */
function run(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? root, env: options.env ?? process.env });
    let stdout = '';
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
      output = (output + chunk).slice(-6_000);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output = (output + chunk).slice(-6_000);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output}`));
    });
    child.stdin.end(options.input ?? '');
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * This machine's extra CA certificates (the file NODE_EXTRA_CA_CERTS names) that Node does
 * not already trust: what npm inside the build needs on a network that intercepts TLS.
 */
function extraCaCertificates(): string {
  const file = process.env.NODE_EXTRA_CA_CERTS;
  if (!file || !existsSync(file)) return '';
  const known = new Set(rootCertificates.map((pem) => pem.replace(/\s+/g, '')));
  const pems =
    readFileSync(file, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  return pems.filter((pem) => !known.has(pem.replace(/\s+/g, ''))).join('\n');
}

/** The base images the Dockerfile and docker-compose.yml name. */
function baseImages(): string[] {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const compose = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
  const node = /^ARG NODE_IMAGE=(\S+)/m.exec(dockerfile)?.[1];
  const services = [...compose.matchAll(/^\s+image: (postgres|redis):(\S+)/gm)].map(
    (match) => `${match[1]}:${match[2]}`,
  );
  return [...(node ? [node] : []), ...services];
}

const timings: string[] = [];
async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await work();
  } finally {
    timings.push(`${label} ${Math.round((Date.now() - started) / 1000)} s`);
  }
}

if (skipReason !== null) {
  describe('the Compose stack', () => {
    it.skip(`is not tested here: ${skipReason}`, () => {});
  });
}

describe.skipIf(skipReason !== null)('the Compose stack, built and run with docker-compose.yml', () => {
  const { compose: composeCommand, env, daemon, cliDir } = engine as Engine;
  const work = mkdtempSync(join(tmpdir(), 'syncengine-smoke-'));
  // Created by Docker at `up`, as for a self-hoster who has not made it yet.
  const syncRoot = join(work, 'sync');
  const envFile = join(work, '.env');
  // Characters a URL would need escaped; `$` is Compose's interpolation and stays out.
  const postgresPassword = `p@ss/w#rd%20:?&=${randomBytes(4).toString('hex')}`;
  let adminPassword = 'first-admin-password';
  let baseUrl = '';
  let cookie = '';
  const pairIds: string[] = [];
  let firstRunId = '';
  const started = Date.now();

  const compose = (args: string[], input?: string) =>
    run(composeCommand[0]!, [...composeCommand.slice(1), '-p', PROJECT, '--env-file', envFile, ...args], {
      env,
      ...(input === undefined ? {} : { input }),
    });

  async function containers(): Promise<Array<{ name: string; service: string; health: string }>> {
    const ids = (await compose(['ps', '-q'])).split('\n').filter(Boolean);
    if (ids.length === 0) return [];
    const lines = await run(
      'docker',
      [
        'inspect',
        '--format',
        '{{.Name}} {{index .Config.Labels "com.docker.compose.service"}} {{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}',
        ...ids,
      ],
      { env },
    );
    return lines
      .trim()
      .split('\n')
      .map((line) => {
        const [name = '', service = '', health = ''] = line.trim().split(' ');
        return { name: name.replace(/^\//, ''), service, health };
      });
  }

  async function waitHealthy(workers: number): Promise<void> {
    const deadline = Date.now() + 5 * MINUTE;
    let last = '';
    for (;;) {
      const list = await containers();
      last = list.map((c) => `${c.name}: ${c.health}`).join(', ');
      const count = (service: string) => list.filter((c) => c.service === service).length;
      const isComplete =
        ['postgres', 'redis', 'server'].every((s) => count(s) === 1) && count('worker') === workers;
      if (isComplete && list.every((c) => c.health === 'healthy')) return;
      if (list.some((c) => c.health === 'unhealthy' || c.health === 'exited')) {
        const logs = await compose(['logs', '--tail', '30']).catch((error: Error) => error.message);
        throw new Error(`a container failed: ${last}\n${logs}`);
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for healthy containers: ${last}`);
      await sleep(2_000);
    }
  }

  async function api<T>(method: string, path: string, body?: unknown, expected = [200, 201]): Promise<T> {
    const response = await fetch(`${baseUrl}/api/v1${path}`, {
      method,
      headers: { cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!expected.includes(response.status)) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : null) as T;
  }

  async function signIn(password: string): Promise<number> {
    const response = await fetch(`${baseUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    });
    if (response.ok)
      cookie = response.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
    return response.status;
  }

  /** Files the user puts on the host, owned by the containers' user as the README says. */
  function hostFolder(relative: string, files: Record<string, string>): void {
    const folder = join(syncRoot, relative);
    mkdirSync(folder, { recursive: true });
    for (const [name, content] of Object.entries(files)) writeFileSync(join(folder, name), content);
    spawnSync('chown', ['-R', `${APP_UID}:${APP_UID}`, join(syncRoot, relative.split('/')[0]!)]);
  }

  async function createPair(name: string, source: string, destination: string): Promise<string> {
    const pair = await api<{ id: string }>('POST', '/pairs', {
      name,
      source: { type: 'local', path: `/sync/${source}` },
      destination: { type: 'local', path: `/sync/${destination}` },
    });
    pairIds.push(pair.id);
    return pair.id;
  }

  const runToEnd = (pairId: string) =>
    api<{ id: string; status: string }>('POST', `/pairs/${pairId}/runs?wait=true&timeout=240`, {});

  beforeAll(async () => {
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    const example = readFileSync(join(root, '.env.example'), 'utf8');
    writeFileSync(
      envFile,
      example
        .replace(/^POSTGRES_PASSWORD=.*$/m, `POSTGRES_PASSWORD=${postgresPassword}`)
        .replace(/^SYNCENGINE_SECRET_KEY=.*$/m, `SYNCENGINE_SECRET_KEY=${randomBytes(32).toString('hex')}`)
        .replace(/^SYNCENGINE_ADMIN_PASSWORD=.*$/m, `SYNCENGINE_ADMIN_PASSWORD=${adminPassword}`)
        .replace(/^SYNCENGINE_SYNC_ROOT=.*$/m, `SYNCENGINE_SYNC_ROOT=${syncRoot}`)
        .replace(/^SYNCENGINE_PORT=.*$/m, `SYNCENGINE_PORT=127.0.0.1:${port}`),
    );
    await timed('base images', () =>
      run('sh', [join(root, 'deploy/base-images/build.sh'), ...baseImages()], { env }),
    );
    const certificates = extraCaCertificates();
    await timed('build', () =>
      compose(['build', ...(certificates ? ['--build-arg', `EXTRA_CA_CERTS=${certificates}`] : [])]),
    );
  }, 20 * MINUTE);

  afterAll(async () => {
    await compose(['down', '-v', '--remove-orphans']).catch((error: Error) =>
      process.stderr.write(`${error.message}\n`),
    );
    rmSync(work, { recursive: true, force: true });
    rmSync(cliDir, { recursive: true, force: true });
    timings.push(`in all ${Math.round((Date.now() - started) / 1000)} s`);
    process.stdout.write(`[compose smoke] ${timings.join(', ')}\n`);
    if (daemon) {
      daemon.kill('SIGTERM');
      await new Promise((resolve) => daemon.once('exit', resolve));
    }
  }, 5 * MINUTE);

  it(
    'starts every service healthy, the port on loopback only, and hands the sync folder Docker created to PUID:PGID',
    async () => {
      await timed('up', () => compose(['up', '-d']));
      await timed('healthy', () => waitHealthy(1));
      const server = (await containers()).find((c) => c.service === 'server')!;
      expect((await run('docker', ['port', server.name, '8080'], { env })).trim()).toBe(
        baseUrl.replace('http://', ''),
      );
      expect({ uid: statSync(syncRoot).uid, gid: statSync(syncRoot).gid }).toEqual({
        uid: APP_UID,
        gid: APP_UID,
      });
    },
    8 * MINUTE,
  );

  it(
    'signs in with SYNCENGINE_ADMIN_PASSWORD and syncs a pair under the sync mount onto the host',
    async () => {
      expect(await signIn(adminPassword)).toBe(200);
      hostFolder('photos', { 'a.txt': 'first photo', 'b.txt': 'second photo' });
      hostFolder('backup', {});
      const pairId = await createPair('photos', 'photos', 'backup');
      const result = await runToEnd(pairId);
      expect(result.status).toBe('completed');
      firstRunId = result.id;
      expect(readFileSync(join(syncRoot, 'backup', 'a.txt'), 'utf8')).toBe('first photo');
      expect(readFileSync(join(syncRoot, 'backup', 'b.txt'), 'utf8')).toBe('second photo');
      expect(statSync(join(syncRoot, 'backup', 'a.txt')).uid).toBe(APP_UID);
    },
    5 * MINUTE,
  );

  it(
    'resets the admin password with syncengine-admin in the server image',
    async () => {
      const next = 'second admin p@ssword';
      const output = await compose(
        ['exec', '-T', 'server', 'syncengine-admin', 'reset-password', '--stdin'],
        `${next}\n`,
      );
      expect(output).toContain('The password of admin is changed.');
      expect(await signIn(adminPassword)).toBe(401);
      expect(await signIn(next)).toBe(200);
      adminPassword = next;
    },
    2 * MINUTE,
  );

  it(
    "backs up with the README's `exec -T` pg_dump, from a script without a terminal",
    async () => {
      const dump = await compose(['exec', '-T', 'postgres', 'pg_dump', '-U', 'syncengine', 'syncengine']);
      expect(dump).toContain('CREATE TABLE');
      expect(dump).toContain('photos');
    },
    2 * MINUTE,
  );

  it(
    'scales to three workers, all healthy, and runs several pairs at once',
    async () => {
      await timed('scale', () => compose(['up', '-d', '--scale', 'worker=3']));
      await waitHealthy(3);
      const names = ['docs', 'music', 'notes', 'code'];
      for (const name of names) {
        hostFolder(
          name,
          Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`${name}-${i}.txt`, `${name} ${i}`])),
        );
        hostFolder(`${name}-copy`, {});
      }
      const ids = await Promise.all(names.map((name) => createPair(name, name, `${name}-copy`)));
      const results = await timed('four runs', () => Promise.all(ids.map(runToEnd)));
      expect(results.map((r) => r.status)).toEqual(names.map(() => 'completed'));
      for (const name of names) {
        for (let i = 0; i < 20; i += 1) {
          expect(readFileSync(join(syncRoot, `${name}-copy`, `${name}-${i}.txt`), 'utf8')).toBe(
            `${name} ${i}`,
          );
        }
      }
    },
    8 * MINUTE,
  );

  it(
    'keeps pairs and history across `down` and `up`',
    async () => {
      await timed('down/up', async () => {
        await compose(['down']);
        await compose(['up', '-d']);
        await waitHealthy(1);
      });
      expect(await signIn(adminPassword)).toBe(200);
      const { items: pairs } = await api<{ items: Array<{ id: string }> }>('GET', '/pairs');
      expect(pairs.map((p) => p.id).sort()).toEqual([...pairIds].sort());
      const { items: runs } = await api<{ items: Array<{ id: string; status: string }> }>(
        'GET',
        `/pairs/${pairIds[0]}/runs`,
      );
      expect(runs).toContainEqual(expect.objectContaining({ id: firstRunId, status: 'completed' }));
    },
    8 * MINUTE,
  );
});
