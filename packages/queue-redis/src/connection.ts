import { Redis, type RedisOptions } from 'ioredis';

/** Where Redis is: a `redis://` / `rediss://` URL, or ioredis options. */
export type RedisConnection = string | RedisOptions;

/** Options for clients whose commands must fail fast while Redis is unreachable. */
export const PRODUCER_OPTIONS: RedisOptions = { enableOfflineQueue: false, maxRetriesPerRequest: 1 };
/** Options for clients that must wait out outages (BullMQ requires them for workers). */
export const CONSUMER_OPTIONS: RedisOptions = { maxRetriesPerRequest: null };

/**
 * Opens an ioredis client for one role. Producers (the API enqueuing, publishers) use
 * PRODUCER_OPTIONS so a command fails at once while Redis is down instead of waiting in
 * memory; consumers (workers, subscribers) use CONSUMER_OPTIONS so they carry on after
 * an outage.
 */
export function openRedis(
  connection: RedisConnection,
  role: RedisOptions,
  onError: (error: Error) => void,
): Redis {
  const client =
    typeof connection === 'string' ? new Redis(connection, role) : new Redis({ ...connection, ...role });
  // ioredis emits an error for every failed reconnect; without a listener Node would crash.
  client.on('error', onError);
  return client;
}

/** Thrown when Redis cannot take a command now (down, or still connecting). */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
}

/**
 * Resolves once the client is connected; rejects after `timeoutMs` (a client that was
 * never ready gets that long to connect; one that lost its connection fails at once).
 */
export async function whenReady(client: Redis, what: string, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return;
  if (client.status === 'end' || client.status === 'close' || client.status === 'reconnecting') {
    throw new RedisUnavailableError(`${what}: Redis is unreachable (connection ${client.status})`);
  }
  await new Promise<void>((resolve, reject) => {
    const done = (error?: Error) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('end', onEnd);
      if (error) reject(error);
      else resolve();
    };
    const onReady = () => done();
    const onEnd = () => done(new RedisUnavailableError(`${what}: the Redis connection is closed`));
    const timer = setTimeout(
      () => done(new RedisUnavailableError(`${what}: Redis did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    client.once('ready', onReady);
    client.once('end', onEnd);
  });
}

/** Closes a client, falling back to a hard disconnect when QUIT cannot be sent. */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}
