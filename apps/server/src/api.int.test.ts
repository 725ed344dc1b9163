import { canReachPostgres, requireService, TEST_DATABASE_URL } from '@syncengine/db/testing';
import { describe } from 'vitest';
import { describeApi } from '../test/testing/api-suite.js';

const hasPostgres = await requireService('Postgres', () => canReachPostgres(TEST_DATABASE_URL));

describe.skipIf(!hasPostgres)('on a fresh Postgres database', () => {
  describeApi('postgres');
});
