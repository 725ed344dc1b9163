// The worker image's HEALTHCHECK: healthy while the worker's environment is valid and the
// Redis it consumes from answers. Exit 0 healthy, 1 unhealthy (Docker's convention).
import { Redis } from 'ioredis';
import { parseWorkerEnv } from './env.js';

async function check(): Promise<void> {
  const config = parseWorkerEnv(process.env);
  const redis = new Redis(config.redisUrl, {
    lazyConnect: true,
    connectTimeout: 3_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  // The failure is reported once, below, not as an unhandled 'error' event.
  redis.on('error', () => {});
  try {
    await redis.connect();
    const answer = await redis.ping();
    if (answer !== 'PONG') throw new Error(`Redis answered ${answer}`);
  } finally {
    redis.disconnect();
  }
}

check().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`unhealthy: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
