// The Kubernetes manifests under deploy/kubernetes/: every object is checked against the
// Kubernetes API's own schemas (kubernetes-models), and the environment they give the
// server and workers against the apps' environment schemas. No cluster runs here, so they
// are never applied in CI.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Service } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseEnv } from '../apps/server/src/env.js';
import { parseWorkerEnv } from '../apps/worker/src/env.js';

const folder = join(dirname(fileURLToPath(import.meta.url)), 'kubernetes');

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

const manifests: Array<{ file: string; object: Manifest }> = readdirSync(folder)
  .filter((file) => file.endsWith('.yaml'))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(folder, file), 'utf8')).map((document) => {
      if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]?.message}`);
      return { file, object: document.toJS() as Manifest };
    }),
  );

const models: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
};

const find = (kind: string, name: string): Manifest => {
  const found = manifests.find(({ object }) => object.kind === kind && object.metadata.name === name)?.object;
  if (!found) throw new Error(`no ${kind} ${name} in deploy/kubernetes`);
  return found;
};

interface Container {
  image: string;
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { key: string } } }>;
  envFrom?: Array<{ configMapRef?: { name: string } }>;
}
const containerOf = (name: string) =>
  (find('Deployment', name).spec as { template: { spec: { containers: Container[] } } }).template.spec
    .containers[0]!;

/** The environment a container gets, with sample values for the Secret's keys. */
function environmentOf(container: Container): Record<string, string> {
  const secret: Record<string, string> = {
    POSTGRES_PASSWORD: 'p@ss/w#rd%20',
    SYNCENGINE_SECRET_KEY: 'k'.repeat(64),
    SYNCENGINE_ADMIN_PASSWORD: 'admin-secret',
  };
  const environment: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    Object.assign(environment, find('ConfigMap', source.configMapRef?.name ?? '').data);
  }
  for (const variable of container.env ?? []) {
    const key = variable.valueFrom?.secretKeyRef?.key;
    environment[variable.name] = key ? secret[key]! : (variable.value ?? '');
  }
  return environment;
}

describe('deploy/kubernetes', () => {
  it('holds Postgres, Redis, the server, the workers and their shared settings', () => {
    expect(manifests.map(({ object }) => `${object.kind}/${object.metadata.name}`).sort()).toEqual([
      'ConfigMap/syncengine',
      'Deployment/syncengine-server',
      'Deployment/syncengine-worker',
      'PersistentVolumeClaim/syncengine-sync',
      'Service/postgres',
      'Service/redis',
      'Service/syncengine',
      'StatefulSet/postgres',
      'StatefulSet/redis',
    ]);
  });

  it.each(
    manifests.map(({ file, object }) => [`${file}: ${object.kind}/${object.metadata.name}`, object] as const),
  )('matches the Kubernetes API schema: %s', (_, object) => {
    const Model = models[`${object.apiVersion}/${object.kind}`];
    expect(Model, `${object.apiVersion} ${object.kind}`).toBeDefined();
    expect(() => new Model!(object as never).validate()).not.toThrow();
  });

  it('rejects what the schema forbids (the check can fail)', () => {
    const deployment = structuredClone(find('Deployment', 'syncengine-worker')) as unknown as {
      spec: { replicas: unknown };
    };
    deployment.spec.replicas = 'two';
    expect(() => new Deployment(deployment as never).validate()).toThrow();
  });

  it('gives the server an environment its schema accepts, running no embedded worker', () => {
    const config = parseEnv(environmentOf(containerOf('syncengine-server')));
    expect(config.databaseUrl).toBe('postgres://syncengine@postgres:5432/syncengine');
    expect(config.redisUrl).toBe('redis://redis:6379');
    expect(config.embeddedWorker).toBe(false);
    expect(config.allowedRoots).toEqual(['/sync']);
  });

  it('gives the workers the same database, Redis, secret key, queue prefix and roots as the server', () => {
    const server = parseEnv(environmentOf(containerOf('syncengine-server')));
    const worker = parseWorkerEnv(environmentOf(containerOf('syncengine-worker')));
    expect(worker).toMatchObject({
      databaseUrl: server.databaseUrl,
      redisUrl: server.redisUrl,
      secretKey: server.secretKey,
      queuePrefix: server.queuePrefix,
      allowedRoots: server.allowedRoots,
    });
    expect(environmentOf(containerOf('syncengine-worker')).PGPASSWORD).toBe('p@ss/w#rd%20');
  });

  it('runs the images the Dockerfile builds, with the Compose file’s Postgres and Redis', () => {
    expect(containerOf('syncengine-server').image).toMatch(/^syncengine-server:/);
    expect(containerOf('syncengine-worker').image).toMatch(/^syncengine-worker:/);
    const compose = readFileSync(join(folder, '..', '..', 'docker-compose.yml'), 'utf8');
    for (const name of ['postgres', 'redis']) {
      const image = (find('StatefulSet', name).spec as { template: { spec: { containers: Container[] } } })
        .template.spec.containers[0]!.image;
      expect(compose).toContain(`image: ${image}`);
    }
  });
});
