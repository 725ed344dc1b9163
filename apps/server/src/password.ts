import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;
const KEY_LENGTH = 32;

/**
 * Password hashes computed at once, and sign-ins let wait for one. scrypt holds a thread
 * of libuv's small pool (shared with file access) and memory while it runs: a flood of
 * sign-ins gets these few slots and a short queue, then `PasswordCheckBusyError`, and the
 * rest of the server keeps its threads.
 */
const MAX_HASHING = 2;
const MAX_WAITING = 16;
let hashing = 0;
const waiting: (() => void)[] = [];

/** Too many password checks are in progress; the caller should answer 503 and let the client retry. */
export class PasswordCheckBusyError extends Error {
  override readonly name = 'PasswordCheckBusyError';
}

async function withHashingSlot<T>(work: () => Promise<T>): Promise<T> {
  if (hashing < MAX_HASHING) {
    hashing += 1;
  } else {
    if (waiting.length >= MAX_WAITING) throw new PasswordCheckBusyError('too many sign-ins at once');
    // The slot is handed over by the one that finishes, so nobody overtakes the queue.
    await new Promise<void>((resolve) => waiting.push(resolve));
  }
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else hashing -= 1;
  }
}

/** `scrypt$<salt>$<key>`, base64url. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await withHashingSlot(() => scryptAsync(password, salt, KEY_LENGTH));
  return `scrypt$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64url');
  const actual = await withHashingSlot(() =>
    scryptAsync(password, Buffer.from(salt, 'base64url'), expected.length),
  );
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A random secret for sessions, tokens and generated passwords. */
export const randomSecret = (bytes = 32): string => randomBytes(bytes).toString('base64url');

/** Sessions and API tokens are stored as their sha256 only. */
export const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');
