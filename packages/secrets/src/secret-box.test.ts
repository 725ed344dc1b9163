import { describe, expect, it } from 'vitest';
import { createSecretBox, MissingSecretKeyError } from './secret-box.js';

const sftp = {
  type: 'sftp' as const,
  host: 'example.org',
  port: 22,
  username: 'alice',
  password: 'hunter2',
  path: '/data',
};

describe('SecretBox', () => {
  it('encrypts secret fields at rest and decrypts them back', () => {
    const box = createSecretBox('k'.repeat(40));
    const stored = box.seal(sftp);
    expect(stored.password).not.toBe('hunter2');
    expect(JSON.stringify(stored)).not.toContain('hunter2');
    expect(stored.host).toBe('example.org');
    expect(box.open(stored)).toMatchObject({ password: 'hunter2', host: 'example.org' });
  });

  it('refuses to store a credential without a key, naming the variable', () => {
    expect(() => createSecretBox(undefined).seal(sftp)).toThrow(MissingSecretKeyError);
    expect(() => createSecretBox(undefined).seal(sftp)).toThrow(/SYNCENGINE_SECRET_KEY/);
  });

  it('stores a local location unchanged without any key', () => {
    const local = { type: 'local' as const, path: '/srv/data' };
    expect(createSecretBox(undefined).seal(local)).toEqual(local);
  });

  it('encrypts a sent value that looks encrypted instead of storing it as given', () => {
    const box = createSecretBox('k'.repeat(40));
    const planted = box.seal(sftp).password as string;
    const stored = box.seal({ ...sftp, password: planted });
    expect(stored.password).not.toBe(planted);
    expect(box.open(stored)).toMatchObject({ password: planted });
  });

  it('cannot decrypt with another key', () => {
    const stored = createSecretBox('a'.repeat(40)).seal(sftp);
    expect(() => createSecretBox('b'.repeat(40)).open(stored)).toThrow(/SYNCENGINE_SECRET_KEY differs/);
  });
});
