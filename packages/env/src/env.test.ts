import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkAllowedRoots, EnvError, parseEnvironment, urlWithScheme } from './env.js';

describe('parseEnvironment', () => {
  const schema = z.object({ REDIS_URL: urlWithScheme(['redis:']), NAME: z.string().default('fallback') });

  it('treats an empty variable as unset', () => {
    expect(parseEnvironment(schema, { REDIS_URL: 'redis://h:6379', NAME: '' })).toEqual({
      REDIS_URL: 'redis://h:6379',
      NAME: 'fallback',
    });
  });

  it('throws an EnvError naming every bad variable', () => {
    expect(() => parseEnvironment(schema, { REDIS_URL: 'http://h' })).toThrow(
      new EnvError('invalid environment: REDIS_URL must be a URL starting with redis://'),
    );
    expect(() => parseEnvironment(schema, {})).toThrow('invalid environment: REDIS_URL is required');
  });
});

describe('checkAllowedRoots', () => {
  it('resolves absolute roots and refuses relative ones or none', () => {
    expect(checkAllowedRoots(['/srv/sync/', '/data/../media'])).toEqual(['/srv/sync', '/media']);
    expect(() => checkAllowedRoots(['/srv', 'data'])).toThrow(
      'SYNCENGINE_ALLOWED_ROOTS must list absolute paths, got data',
    );
    expect(() => checkAllowedRoots([])).toThrow('SYNCENGINE_ALLOWED_ROOTS lists no folder');
  });
});
