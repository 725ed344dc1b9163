import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fingerprint, knownHostsName, lookupKnownHosts, parsePinnedHostKey } from './known-hosts.js';

const KEY_A = 'AAAAC3NzaC1lZDI1NTE5AAAAIHvMM7ebVaVnbsJdJDzQ7yKbWGWnTp58k0b1Gj3zb1Qv';
const KEY_B = 'AAAAC3NzaC1lZDI1NTE5AAAAIFz6Jq2m0o2a3ZV9f1dE0m7yYb4lH8Q7y3dGk2oC1xYz';

function hashed(name: string): string {
  const salt = Buffer.from('0123456789abcdef0123');
  const hash = createHmac('sha1', salt).update(name).digest('base64');
  return `|1|${salt.toString('base64')}|${hash}`;
}

describe('known_hosts lookup', () => {
  it('names hosts on other ports as [host]:port, like ssh', () => {
    expect(knownHostsName('example.org', 22)).toBe('example.org');
    expect(knownHostsName('example.org', 2222)).toBe('[example.org]:2222');
  });

  it('finds plain, comma-listed, wildcard and hashed entries for the host', () => {
    const text = [
      '# comment',
      `other.org ssh-ed25519 ${KEY_B}`,
      `alias,example.org ssh-ed25519 ${KEY_A}`,
      `*.example.net ecdsa-sha2-nistp256 ${KEY_B}`,
      `${hashed('[example.org]:2222')} ssh-rsa ${KEY_B}`,
      '',
    ].join('\n');
    expect(lookupKnownHosts(text, 'example.org', 22).keys.map((key) => key.algorithm)).toEqual([
      'ssh-ed25519',
    ]);
    expect(lookupKnownHosts(text, 'a.example.net', 22).keys.map((key) => key.algorithm)).toEqual([
      'ecdsa-sha2-nistp256',
    ]);
    expect(lookupKnownHosts(text, 'example.org', 2222).keys.map((key) => key.algorithm)).toEqual(['ssh-rsa']);
    expect(lookupKnownHosts(text, 'unknown.org', 22).keys).toEqual([]);
  });

  it('honours negated patterns and collects @revoked keys, ignoring CA lines', () => {
    const text = [
      `*.example.org,!bad.example.org ssh-ed25519 ${KEY_A}`,
      `@revoked * ssh-ed25519 ${KEY_B}`,
      `@cert-authority *.example.org ssh-ed25519 ${KEY_B}`,
    ].join('\n');
    expect(lookupKnownHosts(text, 'bad.example.org', 22).keys).toEqual([]);
    const good = lookupKnownHosts(text, 'good.example.org', 22);
    expect(good.keys).toHaveLength(1);
    expect(good.revoked.map((key) => key.key.toString('base64'))).toEqual([KEY_B]);
  });
});

describe('pinned host keys', () => {
  it('reads a known_hosts-style key, with or without a host field', () => {
    expect(parsePinnedHostKey(`ssh-ed25519 ${KEY_A}`)).toMatchObject({ algorithm: 'ssh-ed25519' });
    expect(parsePinnedHostKey(`[h]:22 ssh-ed25519 ${KEY_A} comment`)).toMatchObject({
      algorithm: 'ssh-ed25519',
    });
  });

  it('reads a SHA256 fingerprint as ssh-keygen -l prints it', () => {
    const print = fingerprint(Buffer.from(KEY_A, 'base64'));
    expect(print).toMatch(/^SHA256:[A-Za-z0-9+/]+$/);
    expect(parsePinnedHostKey(print)).toEqual({ fingerprint: print });
  });

  it('rejects text that is neither', () => {
    expect(() => parsePinnedHostKey('not a key')).toThrow(/pinned host key/);
  });
});
