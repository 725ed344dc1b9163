import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

/** The Postgres that integration tests use. */
export const TEST_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** The Redis that integration tests use. */
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** With `REQUIRE_SERVICES=1`, a missing service fails the tests instead of skipping them. */
export const areServicesRequired = (): boolean => process.env.REQUIRE_SERVICES === '1';

/**
 * Whether a test service is there. When it is not: returns false (the caller skips its
 * tests) or, under `REQUIRE_SERVICES=1`, throws an error naming the service and the URL.
 * Use at the top of a test file:
 *   `const hasPostgres = await requireService('Postgres', () => canReachPostgres(TEST_DATABASE_URL));`
 *   `describe.skipIf(!hasPostgres)(...)`
 */
export async function requireService(name: string, probe: () => Promise<string | null>): Promise<boolean> {
  const problem = await probe();
  if (problem === null) return true;
  if (areServicesRequired()) {
    throw new Error(`${name} is required (REQUIRE_SERVICES=1) but unreachable: ${problem}`);
  }
  process.stderr.write(`[tests] ${name} unreachable, skipping its tests: ${problem}\n`);
  return false;
}

/** null when Postgres answers at `url`, else why not. */
export async function canReachPostgres(url: string = TEST_DATABASE_URL): Promise<string | null> {
  const client = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await client`select 1`;
    return null;
  } catch (error) {
    return `${redactUrl(url)}: ${(error as Error).message}`;
  } finally {
    await client.end({ timeout: 1 });
  }
}

export interface TestDatabase {
  /** URL of a new, empty database that only this test file uses. */
  url: string;
  /** Drops the database (terminating leftover connections). */
  drop(): Promise<void>;
}

/** Creates a fresh database next to the one at `baseUrl`, for one test file. */
export async function createTestDatabase(baseUrl: string = TEST_DATABASE_URL): Promise<TestDatabase> {
  const name = `se_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end({ timeout: 1 });
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const dropper = postgres(baseUrl, { max: 1, onnotice: () => {} });
      try {
        await dropper.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await dropper.end({ timeout: 1 });
      }
    },
  };
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'the configured URL';
  }
}
