import { describe, expect, it } from 'vitest';
import { REDACTED, scrubbedMessage, scrubError, scrubSecrets } from './scrub.js';

describe('scrubSecrets', () => {
  it.each([
    [
      'Failed query: insert into "pairs" ("id", "destination") values ($1, $2)\nparams: 7f3a,{"password":"enc:v1:abc"}',
      'Failed query: insert into "pairs" ("id", "destination") values ($1, $2)\nparams: [redacted]',
    ],
    [
      'duplicate key value violates unique constraint: Key (token_hash)=(9f86d081884c7d65) already exists.',
      'duplicate key value violates unique constraint: Key (token_hash)=([redacted]) already exists.',
    ],
    ['Failing row contains (1, alice, hunter2).', 'Failing row contains ([redacted]).'],
    [
      'connect to postgres://app:s3cr3t@db:5432/sync failed',
      'connect to postgres://app:[redacted]@db:5432/sync failed',
    ],
    [
      'GET https://alice:hunter2@dav.example/files/ 401',
      'GET https://alice:[redacted]@dav.example/files/ 401',
    ],
    ['Authorization: Bearer tok_abcdefgh12345', 'Authorization: [redacted]'],
    ['{"authorization":"Basic YWxpY2U6aHVudGVyMg=="}', '{"authorization":"[redacted]"}'],
    ['sent Bearer tok_abcdefgh12345 upstream', 'sent Bearer [redacted] upstream'],
    ['cookie: syncengine_session=abc123; other=1', 'cookie: [redacted]; other=1'],
    [
      'GET /file?X-Amz-Credential=AKIA%2F&X-Amz-Signature=deadbeef&part=2',
      'GET /file?X-Amz-Credential=[redacted]&X-Amz-Signature=[redacted]&part=2',
    ],
    ['password=hunter2 user=alice', 'password=[redacted] user=alice'],
    [
      '{"secretAccessKey": "wJalrXUtnFEMI", "bucket": "b"}',
      `{"secretAccessKey": "${REDACTED}", "bucket": "b"}`,
    ],
    [
      'key -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA\n-----END OPENSSH PRIVATE KEY----- end',
      `key ${REDACTED} end`,
    ],
  ])('scrubs %j', (text, expected) => {
    expect(scrubSecrets(text)).toBe(expected);
  });

  it('leaves messages without secrets as they are', () => {
    for (const text of [
      'body.source.path: the path is outside the allowed roots',
      'ENOENT: no such file or directory, open /data/a.txt',
      'too many failed sign-ins; try again in 900 seconds',
      'Failed query: select "id" from "users" where "users"."username" = $1',
      'connect ECONNREFUSED 127.0.0.1:5432',
      'postgres://app@db:5432/sync is unreachable',
      'Basic authentication failed',
    ]) {
      expect(scrubSecrets(text)).toBe(text);
    }
  });
});

describe('scrubError', () => {
  it('keeps the type, message, code and plain fields, and drops parameters, headers and secret fields', () => {
    const cause = Object.assign(new Error('duplicate key: Key (name)=(hunter2) already exists.'), {
      code: '23505',
      detail: 'Key (name)=(hunter2) already exists.',
      constraint: 'pairs_name_unique',
    });
    class DrizzleQueryError extends Error {}
    const error = Object.assign(
      new DrizzleQueryError('Failed query: insert into "pairs" ("name") values ($1)\nparams: hunter2', {
        cause,
      }),
      {
        query: 'insert into "pairs" ("name") values ($1)',
        params: ['hunter2'],
        password: 'hunter2',
        config: { headers: { Authorization: 'Bearer hunter2' } },
        status: 500,
      },
    );
    const scrubbed = scrubError(error);
    expect(JSON.stringify(scrubbed)).not.toContain('hunter2');
    expect(scrubbed).toMatchObject({
      type: 'DrizzleQueryError',
      message: 'Failed query: insert into "pairs" ("name") values ($1)\nparams: [redacted]',
      query: 'insert into "pairs" ("name") values ($1)',
      status: 500,
      cause: {
        type: 'Error',
        code: '23505',
        detail: 'Key (name)=([redacted]) already exists.',
        constraint: 'pairs_name_unique',
      },
    });
    expect(scrubbed.stack).toContain('scrub.test');
    expect(scrubbed.stack).not.toContain('hunter2');
    expect(scrubbed).not.toHaveProperty('params');
    expect(scrubbed).not.toHaveProperty('config');
  });

  it('scrubs aggregated errors, non-errors and bounded cause chains', () => {
    const aggregate = new AggregateError([new Error('redis://:pw123456@cache:6379 refused')], 'all failed');
    expect(JSON.stringify(scrubError(aggregate))).not.toContain('pw123456');
    expect(scrubError('token=abc')).toEqual({ type: 'string', message: 'token=[redacted]' });
    let deep: Error = new Error('bottom password=deep');
    for (let level = 0; level < 20; level += 1) deep = new Error(`level ${level}`, { cause: deep });
    expect(JSON.stringify(scrubError(deep))).not.toContain('deep"');
    expect(scrubbedMessage(new Error('postgres://u:p4ss@h/db'))).toBe('postgres://u:[redacted]@h/db');
  });
});
