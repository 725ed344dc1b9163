import { canReachPostgres, requireService, TEST_DATABASE_URL, TEST_REDIS_URL } from '@syncengine/db/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOGIN_LIMITS } from './routes/auth.routes.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './testing/test-server.js';

async function canReachRedis(url: string): Promise<string | null> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2_000 });
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

const hasPostgres = await requireService('Postgres', () => canReachPostgres(TEST_DATABASE_URL));
const hasRedis = await requireService('Redis', () => canReachRedis(TEST_REDIS_URL));

const login = (server: TestServer, username: string, password: string, remoteAddress: string) =>
  server.runtime.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    remoteAddress,
    payload: { username, password },
  });

describe.skipIf(!hasPostgres || !hasRedis)('failed sign-ins counted across server processes (Redis)', () => {
  const prefix = `se_test_limits_${crypto.randomUUID().slice(0, 8)}`;
  let first: TestServer;
  let second: TestServer;
  beforeAll(async () => {
    first = await startTestServer({ driver: 'postgres', redis: { url: TEST_REDIS_URL, prefix } });
    second = await startTestServer({ driver: 'postgres', redis: { url: TEST_REDIS_URL, prefix } });
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
    const redis = new Redis(TEST_REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('refuses a user name once the failures on all processes together reach the limit', async () => {
    const half = LOGIN_LIMITS.perUser / 2;
    for (let attempt = 0; attempt < half; attempt += 1) {
      expect((await login(first, 'shared-guess', `wrong-${attempt}`, `10.4.0.${attempt}`)).statusCode).toBe(
        401,
      );
      expect((await login(second, 'shared-guess', `wrong-${attempt}`, `10.4.1.${attempt}`)).statusCode).toBe(
        401,
      );
    }
    for (const server of [first, second]) {
      const refused = await login(server, 'shared-guess', 'another guess', '10.4.2.1');
      expect(refused.statusCode).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    }
    // Other user names are not affected.
    expect((await login(second, 'admin', ADMIN_PASSWORD, '10.4.2.2')).statusCode).toBe(200);
  });

  it('counts the failures of one client address on every process', async () => {
    const half = LOGIN_LIMITS.perAddress / 2;
    for (let attempt = 0; attempt < half; attempt += 1) {
      expect((await login(first, `a-${attempt}`, 'wrong', '10.5.0.1')).statusCode).toBe(401);
      expect((await login(second, `b-${attempt}`, 'wrong', '10.5.0.1')).statusCode).toBe(401);
    }
    expect((await login(first, 'admin', ADMIN_PASSWORD, '10.5.0.1')).statusCode).toBe(429);
    expect((await login(first, 'admin', ADMIN_PASSWORD, '10.5.0.2')).statusCode).toBe(200);
  });
});
