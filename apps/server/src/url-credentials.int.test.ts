import { WATCH_DEFAULTS } from '@syncengine/contracts';
import { createDatabase, createPairRepo, type NewPairRecord } from '@syncengine/db';
import {
  canReachPostgres,
  createTestDatabase,
  requireService,
  TEST_DATABASE_URL,
  type TestDatabase,
} from '@syncengine/db/testing';
import { createSecretBox } from '@syncengine/secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/testing/test-server.js';

const hasPostgres = await requireService('Postgres', () => canReachPostgres(TEST_DATABASE_URL));
const SECRET_KEY = 'a test secret key that is long enough';

describe.skipIf(!hasPostgres)('pairs stored with credentials in their URLs', () => {
  let server: TestServer;
  let database: TestDatabase;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    // Rows as an earlier version stored them: the credentials in clear inside the URL.
    database = await createTestDatabase();
    const handle = await createDatabase({ url: database.url });
    const pairs = createPairRepo(handle.db);
    const base: Omit<NewPairRecord, 'name' | 'source' | 'destination'> = {
      mode: 'TWO_WAY',
      comparisonMode: 'HASH_THEN_MTIME',
      conflictResolution: 'NEWEST_WINS',
      ignorePatterns: [],
      concurrency: { transfers: 5, operations: 10 },
      maxDeletePercent: 50,
      bandwidthLimit: null,
      schedule: null,
      enabled: true,
      watch: { ...WATCH_DEFAULTS },
    };
    const source = { type: 'local', path: '/srv/unused' };
    ids.webdav = (
      await pairs.create({
        ...base,
        name: 'old webdav',
        source,
        destination: { type: 'webdav', url: 'https://alice:hunter%402@dav.example:8443/remote.php/dav/?x=1' },
      })
    ).id;
    ids.s3 = (
      await pairs.create({
        ...base,
        name: 'old s3',
        source: {
          type: 's3',
          bucket: 'b',
          prefix: '',
          region: 'eu-west-1',
          forcePathStyle: true,
          endpoint: 'http://AKIAOLD:wJalrOld@minio.local:9000',
        },
        destination: source,
      })
    ).id;
    // The explicit fields win over what the URL repeats.
    ids.explicit = (
      await pairs.create({
        ...base,
        name: 'explicit fields',
        source,
        destination: {
          type: 'webdav',
          url: 'https://bob:url-pass@dav.example/files',
          username: 'robert',
          password: createSecretBox(SECRET_KEY).sealValue('password', 'field-pass'),
        },
      })
    ).id;
    await handle.close();
    server = await startTestServer({ driver: 'postgres', databaseUrl: database.url, secretKey: SECRET_KEY });
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  const stored = async (id: string) => (await server.runtime.repos.pairs.get(id))!;
  const opened = async (id: string) => {
    const pair = await stored(id);
    const secrets = createSecretBox(SECRET_KEY);
    return {
      source: secrets.open(pair.source),
      destination: secrets.open(pair.destination),
      raw: JSON.stringify(pair),
    };
  };

  it('moves them into the encrypted credential fields when the server starts', async () => {
    const webdav = await opened(ids.webdav!);
    expect(webdav.destination).toEqual({
      type: 'webdav',
      url: 'https://dav.example:8443/remote.php/dav/?x=1',
      username: 'alice',
      password: 'hunter@2',
    });
    expect(webdav.raw).not.toContain('hunter');
    const s3 = await opened(ids.s3!);
    expect(s3.source).toMatchObject({
      endpoint: 'http://minio.local:9000',
      accessKeyId: 'AKIAOLD',
      secretAccessKey: 'wJalrOld',
    });
    expect(s3.raw).not.toContain('wJalrOld');
    const explicit = await opened(ids.explicit!);
    expect(explicit.destination).toEqual({
      type: 'webdav',
      url: 'https://dav.example/files',
      username: 'robert',
      password: 'field-pass',
    });
    expect(explicit.raw).not.toContain('url-pass');
  });

  it('no longer returns them through the API, and saves the pair again as it is', async () => {
    const response = await server.runtime.app.inject({
      method: 'GET',
      url: `/api/v1/pairs/${ids.webdav}`,
      headers: { cookie: server.cookie },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().destination).toEqual({
      type: 'webdav',
      url: 'https://dav.example:8443/remote.php/dav/?x=1',
      username: 'alice',
      secretsSet: ['password'],
    });
    expect(response.body).not.toContain('hunter');
    const renamed = await server.runtime.app.inject({
      method: 'PATCH',
      url: `/api/v1/pairs/${ids.webdav}`,
      headers: { cookie: server.cookie },
      payload: { name: 'renamed' },
    });
    expect(renamed.statusCode).toBe(200);
  });
});
