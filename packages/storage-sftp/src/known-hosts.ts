import { createHash, createHmac } from 'node:crypto';

/** A host key as found in known_hosts or pinned in a location: algorithm and key blob. */
export interface HostKey {
  algorithm: string;
  key: Buffer;
}

/** `SHA256:…` fingerprint of a key blob, as `ssh-keygen -l` prints it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The name a host is recorded under in known_hosts: `host`, or `[host]:port` for ports other than 22. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globMatches(pattern: string, name: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .split('')
      .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
      .join('')}$`,
    'i',
  );
  return regex.test(name);
}

function hostMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    // Hashed entry: |1|base64(salt)|base64(HMAC-SHA1(salt, name))
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return digest === hash;
  }
  let matched = false;
  for (const pattern of field.split(',')) {
    if (pattern.startsWith('!')) {
      if (globMatches(pattern.slice(1), name)) return false;
    } else if (globMatches(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

export interface KnownHostsLookup {
  /** Keys recorded for the host. */
  keys: HostKey[];
  /** Keys marked `@revoked`, whatever the host. */
  revoked: HostKey[];
}

/** Parses known_hosts text and returns the keys it records for `host` on `port`. */
export function lookupKnownHosts(text: string, host: string, port: number): KnownHostsLookup {
  const name = knownHostsName(host, port);
  const keys: HostKey[] = [];
  const revoked: HostKey[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    let marker: string | undefined;
    if (fields[0]?.startsWith('@')) marker = fields.shift();
    const [hosts, algorithm, blob] = fields;
    if (!hosts || !algorithm || !blob) continue;
    const key: HostKey = { algorithm, key: Buffer.from(blob, 'base64') };
    if (marker === '@revoked') {
      revoked.push(key);
      continue;
    }
    // CA-signed host certificates are not supported: such lines never match.
    if (marker !== undefined) continue;
    if (hostMatches(hosts, name)) keys.push(key);
  }
  return { keys, revoked };
}

/**
 * Parses a pinned host key: a known_hosts-style `algorithm base64` (an optional host
 * field before it is ignored), or a `SHA256:…` fingerprint.
 */
export function parsePinnedHostKey(text: string): HostKey | { fingerprint: string } {
  const trimmed = text.trim();
  if (/^SHA256:/i.test(trimmed)) return { fingerprint: `SHA256:${trimmed.slice(7).replace(/=+$/, '')}` };
  const fields = trimmed.split(/\s+/);
  const at = fields.findIndex((field) => /^(ssh-|ecdsa-|sk-)/.test(field));
  const algorithm = at === -1 ? undefined : fields[at];
  const blob = at === -1 ? undefined : fields[at + 1];
  if (!algorithm || !blob) {
    throw new Error('a pinned host key must be "ssh-ed25519 AAAA…" (as in known_hosts) or "SHA256:…"');
  }
  return { algorithm, key: Buffer.from(blob, 'base64') };
}
