import { Redis } from 'ioredis';

/** null when Redis answers at `url`, else why not. */
export async function canReachRedis(url: string): Promise<string | null> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return null;
  } catch (error) {
    return `${url}: ${(error as Error).message}`;
  } finally {
    client.disconnect();
  }
}

/** Deletes every Redis key under `prefix` (and nothing else). */
export async function flushPrefix(redisUrl: string, prefix: string): Promise<void> {
  const client = new Redis(redisUrl);
  client.on('error', () => {});
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1_000);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}
