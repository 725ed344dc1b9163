import { flushPrefix, TEST_REDIS_URL } from '@syncengine/db/testing';
import { startTestServer, type TestServer } from './test-server.js';

/** Server processes of one deployment, sharing a Postgres database and a Redis key prefix. */
export interface ServersOnRedis {
  /** The key prefix in Redis (queue, events, shared counters). */
  readonly prefix: string;
  readonly servers: TestServer[];
  /** Closes every server, then deletes the keys under the prefix. */
  close(): Promise<void>;
}

/**
 * `count` servers on Postgres, the first on a fresh database that the others use too, all
 * on the Redis at `redisUrl` under a fresh prefix named after `name`: replicas of one
 * deployment, as far as the database and Redis can tell.
 */
export async function startServersOnRedis(
  count: number,
  options: { name: string; redisUrl?: string; credentialCacheTtlMs?: number },
): Promise<ServersOnRedis> {
  const redisUrl = options.redisUrl ?? TEST_REDIS_URL;
  const prefix = `se_test_${options.name}_${crypto.randomUUID().slice(0, 8)}`;
  const shared = {
    driver: 'postgres' as const,
    redis: { url: redisUrl, prefix },
    ...(options.credentialCacheTtlMs === undefined
      ? {}
      : { credentialCacheTtlMs: options.credentialCacheTtlMs }),
  };
  const servers: TestServer[] = [];
  const close = async () => {
    // The first server owns the database: it goes last.
    for (const server of [...servers].reverse()) await server.close();
    await flushPrefix(redisUrl, prefix);
  };
  try {
    servers.push(await startTestServer(shared));
    while (servers.length < count) {
      servers.push(await startTestServer({ ...shared, databaseUrl: servers[0]!.databaseUrl! }));
    }
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
  return { prefix, servers, close };
}
