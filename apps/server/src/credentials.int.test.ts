import type { CreatedToken } from '@syncengine/contracts';
import {
  canReachPostgres,
  canReachRedis,
  requireService,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
} from '@syncengine/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServersOnRedis, startServersOnRedis } from '../test/testing/servers-on-redis.js';
import { ADMIN_PASSWORD, type TestServer } from '../test/testing/test-server.js';

const hasPostgres = await requireService('Postgres', () => canReachPostgres(TEST_DATABASE_URL));
const hasRedis = await requireService('Redis', () => canReachRedis(TEST_REDIS_URL));

// Long enough that only a pushed revocation, never the expiry, can end the trust in these tests.
const CACHE_TTL_MS = 600_000;

describe.skipIf(!hasPostgres || !hasRedis)('checked credentials across two servers on one Redis', () => {
  let deployment: ServersOnRedis;
  let first: TestServer;
  let second: TestServer;

  beforeAll(async () => {
    deployment = await startServersOnRedis(2, { name: 'creds', credentialCacheTtlMs: CACHE_TTL_MS });
    [first, second] = deployment.servers as [TestServer, TestServer];
  });
  afterAll(async () => {
    await deployment?.close();
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
