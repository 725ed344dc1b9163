import {
  canReachPostgres,
  canReachRedis,
  type OwnRedis,
  ownRedisProblem,
  requireService,
  startOwnRedis,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
} from '@syncengine/db/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServersOnRedis, startServersOnRedis } from '../test/testing/servers-on-redis.js';
import { ADMIN_PASSWORD, type TestServer } from '../test/testing/test-server.js';
import { LOGIN_LIMITS } from './routes/auth.routes.js';

const hasPostgres = await requireService('Postgres', () => canReachPostgres(TEST_DATABASE_URL));
const hasRedis = await requireService('Redis', () => canReachRedis(TEST_REDIS_URL));
const canStartRedis = await requireService('redis-server', ownRedisProblem);

const login = (server: TestServer, username: string, password: string, remoteAddress: string) =>
  server.runtime.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    remoteAddress,
    payload: { username, password },
  });

describe.skipIf(!hasPostgres || !hasRedis)('failed sign-ins counted across server processes (Redis)', () => {
  let deployment: ServersOnRedis;
  let first: TestServer;
  let second: TestServer;
  beforeAll(async () => {
    deployment = await startServersOnRedis(2, { name: 'limits' });
    [first, second] = deployment.servers as [TestServer, TestServer];
  });
  afterAll(async () => {
    await deployment?.close();
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

describe.skipIf(!hasPostgres || !canStartRedis)('failed sign-ins while Redis is down', () => {
  let redis: OwnRedis;
  let deployment: ServersOnRedis;
  let first: TestServer;
  let second: TestServer;
  beforeAll(async () => {
    redis = await startOwnRedis();
    deployment = await startServersOnRedis(2, { name: 'limits_outage', redisUrl: redis.url });
    [first, second] = deployment.servers as [TestServer, TestServer];
  });
  afterAll(async () => {
    // The servers' workers wait for Redis to close cleanly.
    redis?.resume();
    await redis?.start().catch(() => {});
    await deployment?.close();
    await redis?.close();
  });

  /** The failed sign-ins Redis holds for a user name (0 when it has none). */
  async function sharedFailures(username: string): Promise<number> {
    const client = new Redis(redis.url);
    try {
      const keys = await client.keys(`${deployment.prefix}:rate-limit:*login-user:${username}`);
      return keys.length === 0 ? 0 : Number(await client.get(keys[0]!));
    } finally {
      client.disconnect();
    }
  }

  it('still refuses a guessed user name on each process, and lets the right password in', async () => {
    await redis.stop();
    for (let attempt = 0; attempt < LOGIN_LIMITS.perUser; attempt += 1) {
      const failed = await login(first, 'outage-guess', `wrong-${attempt}`, `10.6.0.${attempt}`);
      expect(failed.statusCode).toBe(401);
    }
    const refused = await login(first, 'outage-guess', 'another guess', '10.6.1.1');
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // Each process counts on its own while Redis is down.
    expect((await login(second, 'outage-guess', 'a guess', '10.6.1.2')).statusCode).toBe(401);
    expect((await login(first, 'admin', ADMIN_PASSWORD, '10.6.1.3')).statusCode).toBe(200);
    expect((await login(second, 'admin', ADMIN_PASSWORD, '10.6.1.4')).statusCode).toBe(200);
  });

  it('counts in Redis again, across processes, once Redis is back', async () => {
    await redis.start();
    // The servers reconnect on their own; a failure counted in Redis says one has.
    const deadline = Date.now() + 20_000;
    for (const [index, server] of [first, second].entries()) {
      const probe = `reconnect-probe-${index}`;
      for (let attempt = 0; (await sharedFailures(probe)) === 0; attempt += 1) {
        if (Date.now() > deadline) throw new Error(`server ${index + 1} did not count in Redis again`);
        await login(server, probe, 'wrong', `10.7.${index}.${attempt % 250}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    const half = LOGIN_LIMITS.perUser / 2;
    for (let attempt = 0; attempt < half; attempt += 1) {
      expect((await login(first, 'back-guess', `wrong-${attempt}`, `10.8.0.${attempt}`)).statusCode).toBe(
        401,
      );
      expect((await login(second, 'back-guess', `wrong-${attempt}`, `10.8.1.${attempt}`)).statusCode).toBe(
        401,
      );
    }
    expect(await sharedFailures('back-guess')).toBe(LOGIN_LIMITS.perUser);
    for (const server of [first, second]) {
      const refused = await login(server, 'back-guess', 'another guess', '10.8.2.1');
      expect(refused.statusCode).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect((await login(second, 'admin', ADMIN_PASSWORD, '10.8.2.2')).statusCode).toBe(200);
  });

  it('answers sign-ins within seconds, still limited, while Redis hangs without answering', async () => {
    // Redis is back and counting (the test before); now it stops answering, connections open.
    expect(await sharedFailures('back-guess')).toBe(LOGIN_LIMITS.perUser);
    redis.pause();
    try {
      const startedAt = Date.now();
      for (let attempt = 0; attempt < LOGIN_LIMITS.perUser; attempt += 1) {
        const failed = await login(first, 'hang-guess', `wrong-${attempt}`, `10.9.0.${attempt}`);
        expect(failed.statusCode).toBe(401);
      }
      const refused = await login(first, 'hang-guess', 'another guess', '10.9.1.1');
      expect(refused.statusCode).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect((await login(first, 'admin', ADMIN_PASSWORD, '10.9.1.2')).statusCode).toBe(200);
      // Each sign-in waits for Redis at most a short while, never for as long as it hangs.
      expect(Date.now() - startedAt).toBeLessThan(10_000);
    } finally {
      redis.resume();
    }
  });
});
