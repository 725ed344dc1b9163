import { homedir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { EnvError, parseEnv, splitRoots } from './env.js';

describe('parseEnv', () => {
  it('gives the embedded defaults when nothing is set', () => {
    const config = parseEnv({}, '/srv/app');
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      dataDir: '/srv/app/data',
      databaseUrl: undefined,
      redisUrl: undefined,
      adminPassword: undefined,
      allowedRoots: [homedir()],
      secretKey: undefined,
      sftpUseServerIdentity: false,
      embeddedWorker: true,
      cookieSecure: false,
    });
  });

  it('reads every variable', () => {
    const config = parseEnv(
      {
        PORT: '9000',
        HOST: '0.0.0.0',
        SYNCENGINE_DATA_DIR: '/var/lib/syncengine',
        DATABASE_URL: 'postgres://u:p@db:5432/syncengine',
        REDIS_URL: 'redis://cache:6379',
        SYNCENGINE_ADMIN_PASSWORD: 'long enough',
        SYNCENGINE_ALLOWED_ROOTS: '/data,/media/usb:/home/me',
        SYNCENGINE_SECRET_KEY: 'k'.repeat(32),
        SYNCENGINE_COOKIE_SECURE: 'true',
        SYNCENGINE_SFTP_USE_SERVER_IDENTITY: 'yes',
      },
      '/',
    );
    expect(config).toMatchObject({
      port: 9000,
      host: '0.0.0.0',
      dataDir: '/var/lib/syncengine',
      databaseUrl: 'postgres://u:p@db:5432/syncengine',
      redisUrl: 'redis://cache:6379',
      allowedRoots: ['/data', '/media/usb', '/home/me'],
      secretKey: 'k'.repeat(32),
      embeddedWorker: false,
      cookieSecure: true,
      sftpUseServerIdentity: true,
    });
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT/],
    [{ PORT: '70000' }, /PORT/],
    [{ DATABASE_URL: 'mysql://db/x' }, /DATABASE_URL must be a URL starting with postgres:\/\//],
    [{ REDIS_URL: 'localhost:6379' }, /REDIS_URL/],
    [{ SYNCENGINE_ADMIN_PASSWORD: 'short' }, /SYNCENGINE_ADMIN_PASSWORD must be at least 8/],
    [{ SYNCENGINE_SECRET_KEY: 'tiny' }, /SYNCENGINE_SECRET_KEY must be at least 32/],
    [{ SYNCENGINE_ALLOWED_ROOTS: 'relative/dir' }, /SYNCENGINE_ALLOWED_ROOTS must list absolute paths/],
    [{ SYNCENGINE_COOKIE_SECURE: 'perhaps' }, /SYNCENGINE_COOKIE_SECURE/],
  ])('refuses %o, naming the variable', (env, message) => {
    expect(() => parseEnv(env)).toThrow(EnvError);
    expect(() => parseEnv(env)).toThrow(message);
  });

  it('treats empty variables as unset', () => {
    expect(parseEnv({ DATABASE_URL: '', PORT: '' }).databaseUrl).toBeUndefined();
  });
});

describe('splitRoots', () => {
  it('splits on commas and colons and keeps Windows drive letters whole', () => {
    expect(splitRoots('/a, /b:/c')).toEqual(['/a', '/b', '/c']);
    expect(splitRoots('C:\\Users\\me,D:/data')).toEqual(['C:\\Users\\me', 'D:/data']);
  });
});
