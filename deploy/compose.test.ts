import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseEnv } from '../apps/server/src/env.js';
import { parseWorkerEnv } from '../apps/worker/src/env.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const composeText = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const envExample = readFileSync(join(root, '.env.example'), 'utf8');

interface Service {
  image?: string;
  build?: { context: string; target: string };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  container_name?: string;
}

/** Compose's interpolation: `${VAR}`, `${VAR:-default}`, `${VAR:?error}` (unset or empty). */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(
    /\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g,
    (_, name: string, op?: string, arg?: string) => {
      const value = env[name];
      if (value !== undefined && value !== '') return value;
      if (op === '-') return arg ?? '';
      if (op === '?') throw new Error(arg ?? `${name} is required`);
      return '';
    },
  );
}

function loadCompose(env: Record<string, string>): Record<string, Service> {
  const document = parse(interpolate(composeText, env), { merge: true }) as {
    services: Record<string, Service>;
  };
  // Compose hands every environment value to the container as a string.
  for (const service of Object.values(document.services)) {
    if (service.environment) {
      service.environment = Object.fromEntries(
        Object.entries(service.environment).map(([name, value]) => [name, String(value)]),
      );
    }
  }
  return document.services;
}

function parseDotEnv(text: string): Record<string, string> {
  const entries = text
    .split('\n')
    .filter((line) => /^[A-Z0-9_]+=/.test(line))
    .map((line) => {
      const index = line.indexOf('=');
      return [line.slice(0, index), line.slice(index + 1)] as const;
    });
  return Object.fromEntries(entries);
}

/** `.env.example` with its blanks filled, as a user would. */
const filledEnv = {
  ...parseDotEnv(envExample),
  POSTGRES_PASSWORD: 'postgres-secret',
  SYNCENGINE_SECRET_KEY: 'k'.repeat(64),
  SYNCENGINE_ADMIN_PASSWORD: 'admin-secret',
};

describe('docker-compose.yml', () => {
  const services = loadCompose(filledEnv);

  it('runs postgres, redis, server and worker', () => {
    expect(Object.keys(services).sort()).toEqual(['postgres', 'redis', 'server', 'worker']);
  });

  it('keeps Postgres and Redis data in named volumes and checks their health', () => {
    expect(services.postgres?.volumes).toContain('postgres-data:/var/lib/postgresql/data');
    expect(services.redis?.volumes).toContain('redis-data:/data');
    expect(services.postgres?.healthcheck?.test.join(' ')).toContain('pg_isready');
    expect(services.redis?.healthcheck?.test.join(' ')).toContain('ping');
  });

  it('configures Redis for BullMQ: append-only persistence and no eviction', () => {
    const command = services.redis?.command?.join(' ') ?? '';
    expect(command).toContain('--appendonly yes');
    expect(command).toContain('--maxmemory-policy noeviction');
  });

  it('starts the server and workers only once their dependencies are healthy', () => {
    for (const name of ['server', 'worker']) {
      expect(services[name]?.depends_on?.postgres?.condition).toBe('service_healthy');
      expect(services[name]?.depends_on?.redis?.condition).toBe('service_healthy');
    }
    // Workers wait for the server, which applies the migrations.
    expect(services.worker?.depends_on?.server?.condition).toBe('service_healthy');
  });

  it('lets the worker scale: no fixed container name, no published port', () => {
    expect(services.worker?.container_name).toBeUndefined();
    expect(services.worker?.ports).toBeUndefined();
    expect(services.server?.ports).toEqual(['8080:8080']);
  });

  it('mounts the sync folder where SYNCENGINE_ALLOWED_ROOTS confines pairs', () => {
    for (const name of ['server', 'worker']) {
      expect(services[name]?.volumes).toContain('/srv/sync:/sync');
      expect(services[name]?.environment?.SYNCENGINE_ALLOWED_ROOTS).toBe('/sync');
    }
  });

  it('gives the server an environment its schema accepts, in Postgres + Redis mode without an embedded worker', () => {
    const config = parseEnv(services.server?.environment ?? {});
    expect(config.databaseUrl).toBe('postgres://syncengine@postgres:5432/syncengine');
    expect(services.server?.environment?.PGPASSWORD).toBe('postgres-secret');
    expect(config.redisUrl).toBe('redis://redis:6379');
    expect(config.host).toBe('0.0.0.0');
    expect(config.embeddedWorker).toBe(false);
    expect(config.secretKey).toBe('k'.repeat(64));
    expect(config.adminPassword).toBe('admin-secret');
    expect(config.allowedRoots).toEqual(['/sync']);
  });

  it('gives the worker an environment its schema accepts', () => {
    const config = parseWorkerEnv(services.worker?.environment ?? {});
    expect(config.allowedRoots).toEqual(['/sync']);
    expect(config.concurrency).toBe(2);
  });

  it('passes the Postgres password beside the URL, so any character works in it', () => {
    const password = 'p@ss/w#rd%20:?&=x';
    const withOddPassword = loadCompose({ ...filledEnv, POSTGRES_PASSWORD: password });
    for (const name of ['server', 'worker']) {
      const environment = withOddPassword[name]?.environment ?? {};
      expect(environment.PGPASSWORD).toBe(password);
      expect(new URL(environment.DATABASE_URL ?? '').password).toBe('');
    }
    expect(withOddPassword.postgres?.environment?.POSTGRES_PASSWORD).toBe(password);
  });

  it('runs the server and workers as PUID:PGID, 1000:1000 unless set', () => {
    for (const name of ['server', 'worker']) {
      expect(services[name]?.environment).toMatchObject({ PUID: '1000', PGID: '1000' });
      const custom = loadCompose({ ...filledEnv, PUID: '1001', PGID: '100' });
      expect(custom[name]?.environment).toMatchObject({ PUID: '1001', PGID: '100' });
    }
  });

  it('publishes the port on loopback only when SYNCENGINE_PORT says 127.0.0.1:PORT (behind a reverse proxy)', () => {
    expect(loadCompose({ ...filledEnv, SYNCENGINE_PORT: '127.0.0.1:8080' }).server?.ports).toEqual([
      '127.0.0.1:8080:8080',
    ]);
  });

  it.each([
    'POSTGRES_PASSWORD',
    'SYNCENGINE_SECRET_KEY',
    'SYNCENGINE_ADMIN_PASSWORD',
    'SYNCENGINE_SYNC_ROOT',
  ])('refuses to start without %s and names it', (name) => {
    expect(() => loadCompose({ ...filledEnv, [name]: '' })).toThrow(name);
  });

  it('documents every variable it reads in .env.example', () => {
    const used = new Set([...composeText.matchAll(/\$\{([A-Z0-9_]+)/g)].map((match) => match[1]));
    const documented = new Set(Object.keys(parseDotEnv(envExample)));
    expect([...used].filter((name) => !documented.has(name!))).toEqual([]);
  });
});

describe('Dockerfile', () => {
  const stage = (name: string) => {
    const start = dockerfile.lastIndexOf('\nFROM ', dockerfile.indexOf(` AS ${name}\n`));
    expect(start, `stage ${name}`).toBeGreaterThan(-1);
    const next = dockerfile.indexOf('\nFROM ', start + 1);
    return dockerfile.slice(start, next === -1 ? undefined : next);
  };

  it('builds on an even-numbered (LTS) Node release', () => {
    const major = Number(/ARG NODE_IMAGE=node:(\d+)/.exec(dockerfile)?.[1]);
    expect(major % 2).toBe(0);
    expect(major).toBeGreaterThanOrEqual(20);
  });

  it('builds with the same script the CI image check runs', () => {
    expect(stage('build')).toContain('sh scripts/image-build.sh /out');
  });

  it('drops from root to PUID:PGID (default 1000:1000) in its entry point, with a health check in both images', () => {
    expect(stage('runtime-base')).toContain('ENTRYPOINT ["syncengine-entrypoint"]');
    expect(stage('runtime-base')).toMatch(/PUID=1000 \\\n\s+PGID=1000/);
    expect(readFileSync(join(root, 'scripts/image-entrypoint.sh'), 'utf8')).toContain(
      'exec setpriv --reuid="$uid" --regid="$gid" --clear-groups "$@"',
    );
    for (const name of ['server', 'worker']) {
      expect(stage(name)).toContain('HEALTHCHECK');
      expect(stage(name)).toMatch(/FROM runtime-base AS/);
    }
  });

  it('needs nothing from Docker Hub beyond the base image: no `# syntax=` frontend line', () => {
    expect(dockerfile).not.toMatch(/^#\s*syntax=/im);
  });

  it('fetches the dependencies from the lockfile alone, before the sources, into a cache mount', () => {
    const build = stage('build');
    const lockfile = build.indexOf('COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./');
    const fetch = build.indexOf('pnpm fetch --frozen-lockfile');
    const sources = build.indexOf('COPY . .');
    expect(lockfile).toBeGreaterThan(-1);
    expect(fetch).toBeGreaterThan(lockfile);
    expect(sources).toBeGreaterThan(fetch);
    expect(build.slice(lockfile, fetch)).toContain('--mount=type=cache');
  });

  it('offers syncengine-admin in the server image', () => {
    expect(stage('server')).toContain('/usr/local/bin/syncengine-admin');
    expect(stage('server')).toContain('/app/server/dist/admin.js');
  });
});
