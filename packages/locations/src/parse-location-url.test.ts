import { describeLocation, redactLocation } from '@syncengine/contracts';
import { isSyncError } from '@syncengine/engine';
import { describe, expect, it } from 'vitest';
import { parseLocalLocation } from './local-location.js';
import { parseLocationUrl } from './parse-location-url.js';

const env = { HOME: '/home/alice', USER: 'alice' };

function parseError(text: string, options = {}): Error {
  try {
    parseLocationUrl(text, { env, ...options });
  } catch (error) {
    expect(isSyncError(error, 'INVALID_CONFIG')).toBe(true);
    return error as Error;
  }
  throw new Error(`expected ${text} to be rejected`);
}

describe('parseLocationUrl', () => {
  it.each([
    ['/data/photos', '/data/photos'],
    ['/data/photos/', '/data/photos'],
    ['photos', '/work/photos'],
    ['./a/../b', '/work/b'],
    ['~/docs', '/home/alice/docs'],
    ['file:///srv/x%20y', '/srv/x y'],
    ['file://localhost/srv/x', '/srv/x'],
  ])('reads %s as the local folder %s', (text, path) => {
    expect(parseLocationUrl(text, { cwd: '/work', env })).toEqual({ type: 'local', path });
  });

  it('reads an sftp URL with user, password, port and absolute path', () => {
    expect(parseLocationUrl('sftp://bob:s%40cret@example.org:2222/srv/data/', { env })).toEqual({
      type: 'sftp',
      host: 'example.org',
      port: 2222,
      username: 'bob',
      password: 's@cret',
      path: '/srv/data',
    });
  });

  it('reads an sftp path below the login folder, and defaults the port and user', () => {
    expect(parseLocationUrl('sftp://example.org/~/backup', { env })).toMatchObject({
      username: 'alice',
      port: 22,
      path: 'backup',
    });
    const home = parseLocationUrl('sftp://bob@example.org', { env });
    expect(home).toMatchObject({ path: '.' });
    expect(describeLocation(home)).toBe('sftp://bob@example.org/~');
  });

  it('takes the sftp password from SYNCENGINE_SFTP_PASSWORD, the URL winning over it', () => {
    const withEnv = { ...env, SYNCENGINE_SFTP_PASSWORD: 'from-env' };
    expect(parseLocationUrl('sftp://bob@host/x', { env: withEnv })).toMatchObject({ password: 'from-env' });
    expect(parseLocationUrl('sftp://bob:url@host/x', { env: withEnv })).toMatchObject({ password: 'url' });
  });

  it('adds the key file and the pinned host key from the options', () => {
    expect(
      parseLocationUrl('sftp://bob@host/x', {
        env,
        sftpKeyPath: '~/.ssh/id_sync',
        sftpHostKey: 'SHA256:abc',
      }),
    ).toMatchObject({ privateKeyPath: '/home/alice/.ssh/id_sync', hostKey: 'SHA256:abc' });
  });

  it('reads an s3 URL, with the endpoint from the options and path-style addressing', () => {
    expect(
      parseLocationUrl('s3://my-bucket/some/prefix/', { env, s3Endpoint: 'http://127.0.0.1:9000' }),
    ).toEqual({
      type: 's3',
      bucket: 'my-bucket',
      prefix: 'some/prefix',
      endpoint: 'http://127.0.0.1:9000',
      region: 'us-east-1',
      forcePathStyle: true,
    });
  });

  it('reads the s3 endpoint and region from the environment, and keeps AWS credentials out of the location', () => {
    const location = parseLocationUrl('s3://bucket', {
      env: {
        AWS_ENDPOINT_URL: 'https://s3.example.com',
        AWS_REGION: 'eu-west-3',
        AWS_ACCESS_KEY_ID: 'AKIA',
        AWS_SECRET_ACCESS_KEY: 'secret',
      },
    });
    expect(location).toEqual({
      type: 's3',
      bucket: 'bucket',
      prefix: '',
      endpoint: 'https://s3.example.com',
      region: 'eu-west-3',
      forcePathStyle: true,
    });
  });

  it('uses virtual-hosted addressing on AWS unless told otherwise', () => {
    expect(parseLocationUrl('s3://bucket/p', { env: {} })).toMatchObject({ forcePathStyle: false });
    expect(parseLocationUrl('s3://bucket/p', { env: {}, s3ForcePathStyle: true })).toMatchObject({
      forcePathStyle: true,
    });
  });

  it.each([
    ['webdav://u:p@dav.local:8080/remote.php/dav/', 'http://dav.local:8080/remote.php/dav/'],
    ['webdavs://u:p@dav.example.com/files', 'https://dav.example.com/files'],
  ])('reads %s as the WebDAV URL %s with its credentials', (text, url) => {
    expect(parseLocationUrl(text, { env })).toEqual({ type: 'webdav', url, username: 'u', password: 'p' });
  });

  it('takes the WebDAV password from SYNCENGINE_WEBDAV_PASSWORD', () => {
    expect(
      parseLocationUrl('webdav://u@dav.local/x', { env: { SYNCENGINE_WEBDAV_PASSWORD: 'pw' } }),
    ).toMatchObject({ username: 'u', password: 'pw' });
  });

  it.each([
    ['', /empty/],
    ['ftp://host/x', /unknown scheme 'ftp:\/\/'/],
    ['sftp:///path', /host is missing/],
    ['sftp://bob@host:99999/x', /not a valid URL|port/],
    ['s3:///prefix', /bucket is missing/],
    ['s3://Bad_Bucket/x', /not a valid bucket name/],
    ['s3://key:secret@bucket/x', /credentials/],
    ['s3://bucket/a/../b', /'\.\.'/],
    ['file://otherhost/x', /must be local/],
    ['sftp://bob@host/%E0%A4%A', /malformed %-escape/],
  ])('rejects %j, naming the problem', (text, problem) => {
    expect(parseError(text).message).toMatch(problem);
  });

  it('never repeats a password from the URL in its error messages', () => {
    expect(parseError('sftp://bob:hunter2@host/%E0%A4%A').message).not.toContain('hunter2');
  });

  it('rejects an sftp URL without a user when no login name is known', () => {
    expect(() => parseLocationUrl('sftp://host/x', { env: {} })).toThrow(/user name is missing/);
  });
});

describe('parseLocalLocation', () => {
  it.each([
    '/data/photos',
    '/data/photos/',
    'photos',
    ' ./a/../b ',
    '~/docs',
    '~',
    'file:///srv/x%20y',
    'file://localhost/srv/x',
  ])('reads %s as parseLocationUrl does, without the schemas', (text) => {
    const options = { cwd: '/work', env };
    expect(parseLocalLocation(text, options)).toEqual(parseLocationUrl(text, options));
  });

  it.each([
    'sftp://bob@example.org/srv',
    's3://bucket/prefix',
    'webdavs://example.org/dav',
    'ftp://example.org/x',
    '',
    '   ',
    'file://example.org/srv/x',
    'file:///srv/a%2Fb',
  ])('leaves %j to parseLocationUrl', (text) => {
    expect(parseLocalLocation(text, { cwd: '/work', env })).toBeUndefined();
  });
});

describe('describeLocation and redactLocation', () => {
  it('describe every location without its secrets', () => {
    const sftp = parseLocationUrl('sftp://bob:hunter2@host:2222/srv', { env });
    expect(describeLocation(sftp)).toBe('sftp://bob@host:2222/srv');
    const dav = parseLocationUrl('webdavs://u:hunter2@dav.example.com/files', { env });
    expect(describeLocation(dav)).toBe('webdavs://u@dav.example.com/files');
    expect(describeLocation(parseLocationUrl('s3://bk1/p', { env, s3Endpoint: 'http://x:9' }))).toBe(
      's3://bk1/p at http://x:9',
    );
  });

  it('drops the secret fields and says which were set', () => {
    const redacted = redactLocation({
      type: 's3',
      bucket: 'b',
      prefix: '',
      region: 'us-east-1',
      forcePathStyle: false,
      accessKeyId: 'AKIA',
      secretAccessKey: 'shh',
    });
    expect(redacted).toEqual({
      type: 's3',
      bucket: 'b',
      prefix: '',
      region: 'us-east-1',
      forcePathStyle: false,
      accessKeyId: 'AKIA',
      secretsSet: ['secretAccessKey'],
    });
  });
});
