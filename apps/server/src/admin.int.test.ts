import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  createDatabase,
  createSessionRepo,
  createTokenRepo,
  createUserRepo,
  type DatabaseHandle,
} from '@syncengine/db';
import {
  canReachPostgres,
  createTestDatabase,
  requireService,
  TEST_DATABASE_URL,
  type TestDatabase,
} from '@syncengine/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthService } from './services/auth.service.js';

const hasPostgres = await requireService('Postgres', () => canReachPostgres(TEST_DATABASE_URL));
const ADMIN = fileURLToPath(new URL('./admin.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe.skipIf(!hasPostgres)('syncengine-admin reset-password', () => {
  let testDatabase: TestDatabase;
  let database: DatabaseHandle;
  let auth: ReturnType<typeof createAuthService>;

  const admin = (args: string[], input = '') =>
    spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', ADMIN, ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: testDatabase.url },
      input,
      encoding: 'utf8',
    });
  const canSignIn = (password: string) =>
    auth.login('admin', password).then(
      () => true,
      () => false,
    );

  beforeAll(async () => {
    testDatabase = await createTestDatabase();
    database = await createDatabase({ url: testDatabase.url, maxConnections: 2 });
    auth = createAuthService({
      users: createUserRepo(database.db),
      sessions: createSessionRepo(database.db),
      tokens: createTokenRepo(database.db),
    });
  });
  afterAll(async () => {
    await database?.close();
    await testDatabase?.drop();
  });

  it('changes the password set on first start, which SYNCENGINE_ADMIN_PASSWORD cannot change later, and ends the sessions', async () => {
    await auth.ensureAdmin('first-password');
    // A later start with another SYNCENGINE_ADMIN_PASSWORD leaves the password as it is.
    await auth.ensureAdmin('second-password');
    expect(await canSignIn('second-password')).toBe(false);
    const { sessionToken } = await auth.login('admin', 'first-password');

    const result = admin(['reset-password', '--stdin'], 'p@ss/word#with%odd chars\n');
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('The password of admin is changed.\n');
    expect(result.status).toBe(0);
    expect(await canSignIn('p@ss/word#with%odd chars')).toBe(true);
    expect(await canSignIn('first-password')).toBe(false);
    expect(await auth.authenticate({ sessionToken })).toBeNull();
  });

  it('generates a password and prints it once without --stdin', async () => {
    const result = admin(['reset-password']);
    expect(result.status).toBe(0);
    const generated = /The password of admin is now: (\S+)/.exec(result.stdout)?.[1];
    expect(generated).toBeDefined();
    expect(await canSignIn(generated!)).toBe(true);
  });

  it('refuses a short password and unknown commands, changing nothing', async () => {
    await auth.resetAdminPassword('kept-password');
    const short = admin(['reset-password', '--stdin'], 'short\n');
    expect(short.status).toBe(2);
    expect(short.stderr).toContain('at least 8 characters');
    const unknown = admin(['reset-passwd']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('Usage: syncengine-admin reset-password');
    expect(await canSignIn('kept-password')).toBe(true);
  });
});
