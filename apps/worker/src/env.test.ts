import { describe, expect, it } from 'vitest';
import { EnvError, parseWorkerEnv } from './env.js';

const valid = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/syncengine',
  REDIS_URL: 'redis://127.0.0.1:6379',
  SYNCENGINE_ALLOWED_ROOTS: '/srv/sync,/data',
};

describe('parseWorkerEnv', () => {
  it('refuses to start without DATABASE_URL, naming it', () => {
    const { DATABASE_URL: _omitted, ...env } = valid;
    expect(() => parseWorkerEnv(env)).toThrow(EnvError);
    expect(() => parseWorkerEnv(env)).toThrow(/DATABASE_URL is required/);
  });

  it('refuses to start without REDIS_URL, naming it', () => {
    expect(() => parseWorkerEnv({ ...valid, REDIS_URL: '' })).toThrow(/REDIS_URL is required/);
  });

  it('names a URL with the wrong scheme', () => {
    expect(() => parseWorkerEnv({ ...valid, REDIS_URL: 'http://localhost' })).toThrow(
      /REDIS_URL must be a URL starting with redis:\/\//,
    );
  });

  it('runs two jobs at once by default and takes WORKER_CONCURRENCY', () => {
    expect(parseWorkerEnv(valid).concurrency).toBe(2);
    expect(parseWorkerEnv({ ...valid, WORKER_CONCURRENCY: '8' }).concurrency).toBe(8);
    expect(() => parseWorkerEnv({ ...valid, WORKER_CONCURRENCY: '0' })).toThrow(/WORKER_CONCURRENCY/);
  });

  it('splits the allowed roots and refuses relative ones', () => {
    expect(parseWorkerEnv(valid).allowedRoots).toEqual(['/srv/sync', '/data']);
    // The same list the server reads: `:` separates POSIX paths, as it does for the server.
    expect(parseWorkerEnv({ ...valid, SYNCENGINE_ALLOWED_ROOTS: '/a:/b, /c' }).allowedRoots).toEqual([
      '/a',
      '/b',
      '/c',
    ]);
    expect(() => parseWorkerEnv({ ...valid, SYNCENGINE_ALLOWED_ROOTS: 'data' })).toThrow(
      /SYNCENGINE_ALLOWED_ROOTS must list absolute paths/,
    );
  });

  it('refuses a short secret key', () => {
    expect(() => parseWorkerEnv({ ...valid, SYNCENGINE_SECRET_KEY: 'short' })).toThrow(
      /SYNCENGINE_SECRET_KEY must be at least 32 characters/,
    );
  });
});
