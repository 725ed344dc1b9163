import type { CreatedToken } from '@syncengine/contracts';
import { canReachPostgres, requireService, TEST_DATABASE_URL, TEST_REDIS_URL } from '@syncengine/db/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

// Long enough that only a pushed revocation, never the expiry, can end the trust in these tests.
const CACHE_TTL_MS = 600_000;

describe.skipIf(!hasPostgres || !hasRedis)('checked credentials across two servers on one Redis', () => {
  const prefix = `se_test_creds_${crypto.randomUUID().slice(0, 8)}`;
  let first: TestServer;
  let second: TestServer;

  beforeAll(async () => {
    first = await startTestServer({
      driver: 'postgres',
      redis: { url: TEST_REDIS_URL, prefix },
      credentialCacheTtlMs: CACHE_TTL_MS,
    });
    second = await startTestServer({
      driver: 'postgres',
      databaseUrl: first.databaseUrl!,
      redis: { url: TEST_REDIS_URL, prefix },
      credentialCacheTtlMs: CACHE_TTL_MS,
    });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
    const redis = new Redis(TEST_REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  const listPairs = (server: TestServer, headers: Record<string, string>) =>
    server.runtime.app.inject({ method: 'GET', url: '/api/v1/pairs', headers });
  const listMe = (server: TestServer) =>
    server.runtime.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: server.cookie } });
  const createToken = async (): Promise<CreatedToken> => {
    const response = await first.runtime.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: { cookie: first.cookie },
      payload: { name: `token ${crypto.randomUUID()}` },
    });
    expect(response.statusCode).toBe(201);
    return response.json();
  };

  it('keeps trusting a checked token whose row vanished without an announcement, until the cache expires', async () => {
    const token = await createToken();
    const bearer = { authorization: `Bearer ${token.token}` };
    expect((await listPairs(second, bearer)).statusCode).toBe(200);
    const me = (await listMe(first)).json() as { id: string };
    // Straight from the table, as another program would: nothing is announced.
    expect(await first.runtime.repos.tokens.delete(me.id, token.id)).toBe(true);
    // Checked a moment ago: answered from memory, without the database.
    expect((await listPairs(second, bearer)).statusCode).toBe(200);
    // Never checked on the first server: refused there.
    expect((await listPairs(first, bearer)).statusCode).toBe(401);
  });

  it('refuses a deleted token on both servers as soon as the revocation arrives', async () => {
    const token = await createToken();
    const bearer = { authorization: `Bearer ${token.token}` };
    expect((await listPairs(first, bearer)).statusCode).toBe(200);
    expect((await listPairs(second, bearer)).statusCode).toBe(200);

    const heard = second.nextEvent((event) => event.type === 'credentials.revoked');
    const deleted = await first.runtime.app.inject({
      method: 'DELETE',
      url: `/api/v1/tokens/${token.id}`,
      headers: { cookie: first.cookie },
    });
    expect(deleted.statusCode).toBe(204);
    expect((await listPairs(first, bearer)).statusCode).toBe(401);
    await heard;
    expect((await listPairs(second, bearer)).statusCode).toBe(401);
    // The signed-in session of the same user is checked again, and still holds.
    expect((await listPairs(second, { cookie: first.cookie })).statusCode).toBe(200);
  });

  it('refuses a logged-out session on both servers as soon as the revocation arrives', async () => {
    const login = await second.runtime.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'admin', password: ADMIN_PASSWORD },
    });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const session = { cookie };
    expect((await listPairs(first, session)).statusCode).toBe(200);
    expect((await listPairs(second, session)).statusCode).toBe(200);

    const heard = first.nextEvent((event) => event.type === 'credentials.revoked');
    const logout = await second.runtime.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: session,
    });
    expect(logout.statusCode).toBe(204);
    expect((await listPairs(second, session)).statusCode).toBe(401);
    await heard;
    expect((await listPairs(first, session)).statusCode).toBe(401);
  });
});
