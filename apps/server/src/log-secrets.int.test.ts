import { canReachPostgres, requireService, TEST_DATABASE_URL } from '@syncengine/db/testing';
import { openStorage } from '@syncengine/locations';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/testing/test-server.js';

const hasPostgres = await requireService('Postgres', () => canReachPostgres(TEST_DATABASE_URL));

/** Secrets that appear in the failing requests below; none may reach a log line. */
const SECRETS = {
  urlPassword: 'url-pass-7c1d',
  basicAuth: 'YWxpY2U6dXJsLXBhc3MtN2MxZA==',
  bearer: 'tok_4f0b9e2a77c1',
  queryToken: 'qtok-51ae03',
  storedPassword: 'dav-pass-90be',
  newPassword: 'dav-pass-changed-3e11',
  pairName: 'pair-name-in-params-a4d2',
} as const;

/**
 * A backend client's error as HTTP libraries build them: the URL with its credentials in
 * the message, the request's headers and options hung on the error, a cause with a token.
 */
function backendError(): Error {
  const cause = new Error(`fetch https://dav.example/files?access_token=${SECRETS.queryToken} failed`);
  return Object.assign(
    new Error(`PROPFIND https://alice:${SECRETS.urlPassword}@dav.example/files/: socket hang up`, { cause }),
    {
      code: 'ERR_BAD_RESPONSE',
      config: { headers: { Authorization: `Basic ${SECRETS.basicAuth}` } },
      request: { headers: { authorization: `Bearer ${SECRETS.bearer}` } },
      password: SECRETS.storedPassword,
    },
  );
}

describe.skipIf(!hasPostgres)('logs of failed requests, on a fresh Postgres database', () => {
  let server: TestServer;
  const lines: string[] = [];

  beforeAll(async () => {
    server = await startTestServer({
      driver: 'postgres',
      secretKey: 'a test secret key that is long enough',
      log: { write: (line) => lines.push(line) },
      openStorage: async (location) => {
        if (location.type === 'webdav') throw backendError();
        return openStorage(location);
      },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  const request = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: Record<string, unknown>) =>
    server.runtime.app.inject({
      method,
      url,
      headers: { cookie: server.cookie },
      ...(payload ? { payload } : {}),
    });
  /** The log lines of one request, parsed; fails when the request logged nothing. */
  const linesOf = (requestId: string) => {
    const found = lines.map((line) => JSON.parse(line)).filter((line) => line.reqId === requestId);
    expect(found.length).toBeGreaterThan(0);
    return found;
  };
  const expectNoSecret = (text: string) => {
    for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
  };

  async function webdavPair(name: string) {
    const { source } = await server.folders(name);
    return server.createPair({
      name,
      source: { type: 'local', path: source },
      destination: {
        type: 'webdav',
        url: 'https://dav.example/files',
        username: 'alice',
        password: SECRETS.storedPassword,
      },
    });
  }

  it('logs a 500 whose error carries credentials (URL, headers, fields, cause) without any of them', async () => {
    const pair = await webdavPair('backend-error');
    const response = await request('GET', `/api/v1/pairs/${pair.id}/plan`);
    expect(response.statusCode).toBe(500);
    expect(response.json().message).toBe('Internal Server Error');
    const logged = linesOf(response.json().requestId);
    const failure = logged.find((line) => line.msg === 'request failed');
    expect(failure.err).toMatchObject({
      type: 'Error',
      code: 'ERR_BAD_RESPONSE',
      message: 'PROPFIND https://alice:[redacted]@dav.example/files/: socket hang up',
      cause: { message: 'fetch https://dav.example/files?access_token=[redacted] failed' },
    });
    expect(failure.err).not.toHaveProperty('config');
    expectNoSecret(lines.join('\n'));
  });

  it("logs a database error without its query's parameters (credentials, names) or Postgres' details", async () => {
    const pair = await webdavPair(SECRETS.pairName);
    // Every update of a pair now fails inside Postgres, with the row's values in the details.
    await server.runtime.database.db.execute(`
      create function refuse_pair_update() returns trigger language plpgsql as $$
      begin
        raise exception 'pairs are read-only' using detail = format('Failing row contains (%s).', new.destination);
      end $$;
      create trigger refuse_pair_update before update on pairs for each row execute function refuse_pair_update();
    `);
    try {
      const response = await request('PATCH', `/api/v1/pairs/${pair.id}`, {
        name: SECRETS.pairName,
        destination: {
          type: 'webdav',
          url: 'https://dav.example/files',
          username: 'alice',
          password: SECRETS.newPassword,
        },
      });
      expect(response.statusCode).toBe(500);
      const failure = linesOf(response.json().requestId).find((line) => line.msg === 'request failed');
      // The query is logged (it names the table), its parameters are not.
      expect(failure.err.message).toMatch(/^Failed query: update "pairs" set .*\nparams: \[redacted\]$/s);
      expect(failure.err.cause).toMatchObject({
        message: 'pairs are read-only',
        code: 'P0001',
        detail: 'Failing row contains ([redacted]).',
      });
      expect(failure.err).not.toHaveProperty('params');
      const stored = await server.runtime.repos.pairs.get(pair.id);
      const encrypted = JSON.stringify(stored?.destination);
      expect(encrypted).not.toContain(SECRETS.storedPassword);
      const text = lines.join('\n');
      expectNoSecret(text);
      // Nor the encrypted credentials (stored, or about to be).
      for (const sealed of encrypted.match(/"(v\d+:[^"]+)"/g) ?? []) expect(text).not.toContain(sealed);
    } finally {
      await server.runtime.database.db.execute(
        'drop trigger refuse_pair_update on pairs; drop function refuse_pair_update();',
      );
    }
  });
});
