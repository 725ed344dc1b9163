import { type Pair, PairListSchema, RunListSchema } from '@syncengine/contracts';
import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod';
import { describe, expect, it } from 'vitest';
import type { ZodType } from 'zod';
import { compiledSerializerCompiler, forSerialization } from './serializer.js';

const route = (schema: ZodType) => ({ schema, method: 'GET', url: '/test', httpStatus: '200' });
const compiled = (schema: ZodType) => compiledSerializerCompiler(route(schema));
const withZod = (schema: ZodType) => zodSerializerCompiler(route(schema));

const pair = (overrides: Partial<Pair> & Record<string, unknown>): Pair => ({
  id: '3f0a8c4e-1d2b-4c3d-8e4f-5a6b7c8d9e0f',
  name: 'photos',
  source: { type: 'local', path: '/srv/photos', secretsSet: [] },
  destination: {
    type: 'sftp',
    host: 'nas.lan',
    port: 2222,
    username: 'alice',
    path: '/backup',
    secretsSet: ['password'],
  },
  mode: 'TWO_WAY',
  comparisonMode: 'HASH_THEN_MTIME',
  conflictResolution: 'NEWEST_WINS',
  ignorePatterns: ['*.tmp', 'quote " and \\ backslash'],
  concurrency: { transfers: 5, operations: 10 },
  maxDeletePercent: 50,
  bandwidthLimit: 1_048_576,
  schedule: '0 * * * *',
  enabled: true,
  watch: { enabled: false, debounceMs: 1_000, rescanMinutes: 60, pollSeconds: 60 },
  createdAt: '2026-12-04T10:00:00.000Z',
  updatedAt: '2026-12-04T11:00:00.000Z',
  lastRun: {
    id: '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d',
    status: 'completed',
    queuedAt: '2026-12-04T11:30:00.000Z',
    finishedAt: '2026-12-04T11:30:02.000Z',
  },
  nextRunAt: '2026-12-04T12:00:00.000Z',
  ...overrides,
});

describe('compiled response serialisers', () => {
  it('write what zod would for every kind of location, with and without a last run', () => {
    const list = {
      items: [
        pair({}),
        pair({
          source: {
            type: 's3',
            bucket: 'b',
            prefix: 'p/',
            region: 'eu-west-1',
            forcePathStyle: true,
            secretsSet: [],
          },
          destination: { type: 'webdav', url: 'https://dav.example/x', username: 'bob', secretsSet: [] },
          lastRun: null,
          nextRunAt: null,
          schedule: null,
        }),
      ],
    };
    const written = compiled(PairListSchema)(list);
    expect(JSON.parse(written)).toEqual(JSON.parse(withZod(PairListSchema)(list)));
    expect(JSON.parse(written)).toEqual(list);
  });

  it('leaves out fields the schema does not declare, at every level', () => {
    const list = {
      items: [
        {
          ...pair({}),
          internal: 'kept on the server',
          destination: { ...pair({}).destination, privateKeyCipher: 'v1:secret' },
          lastRun: { ...pair({}).lastRun!, force: true },
        },
      ],
    };
    const written = compiled(PairListSchema)(list);
    expect(written).not.toContain('kept on the server');
    expect(written).not.toContain('v1:secret');
    expect(written).not.toContain('force');
    expect(JSON.parse(written)).toEqual({ items: [pair({})] });
  });

  it('refuses an answer that lacks a required field instead of writing it', () => {
    const { name: _name, ...nameless } = pair({});
    expect(() => compiled(PairListSchema)({ items: [nameless] })).toThrow();
    expect(() => compiled(RunListSchema)({})).toThrow();
  });

  it('turns "X or null" into a nullable X and a tagged union into an if/then chain', () => {
    expect(forSerialization({ anyOf: [{ type: 'string' }, { type: 'null' }] })).toEqual({
      type: 'string',
      nullable: true,
    });
    const a = { type: 'object', properties: { type: { const: 'a' }, x: { type: 'string' } } };
    const b = { type: 'object', properties: { type: { const: 'b' }, y: { type: 'number' } } };
    expect(forSerialization({ oneOf: [a, b] })).toEqual({
      if: { type: 'object', properties: { type: { const: 'a' } }, required: ['type'] },
      // biome-ignore lint/suspicious/noThenProperty: the JSON Schema keyword
      then: a,
      else: b,
    });
    // Untagged unions stay as they are.
    const untagged = { anyOf: [{ type: 'string' }, { type: 'number' }] };
    expect(forSerialization(untagged)).toEqual(untagged);
  });
});
