import { randomBytes } from 'node:crypto';
import pg from 'pg';

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
  try {
    await withClient(url, (client) => client.query('select 1'), 3_000);
    return null;
  } catch (error) {
    return `${redactUrl(url)}: ${(error as Error).message}`;
  }
}

/** Runs `work` on a single connection to `url`, closing it afterwards. */
export async function withClient<T>(
  url: string,
  work: (client: pg.Client) => Promise<T>,
  connectionTimeoutMillis = 10_000,
): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis });
  client.on('error', () => {});
  try {
    await client.connect();
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

export interface TestDatabase {
  /** URL of a new, empty database that only this test file uses. */
  url: string;
  /** Drops the database (terminating leftover connections). */
  drop(): Promise<void>;
}

/**
 * Creates a fresh database next to the one at `baseUrl`, for one test file; with `icuLocale`
 * (`'en-US'`), one whose text sorts by that locale, as a production database may.
 */
export async function createTestDatabase(
  baseUrl: string = TEST_DATABASE_URL,
  options: { icuLocale?: string } = {},
): Promise<TestDatabase> {
  const name = `se_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const locale = options.icuLocale
    ? ` template template0 locale_provider icu icu_locale '${options.icuLocale.replace(/'/g, "''")}'`
    : '';
  await withClient(baseUrl, (admin) => admin.query(`create database "${name}"${locale}`));
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await withClient(baseUrl, (admin) => admin.query(`drop database if exists "${name}" with (force)`));
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
