import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { isSyncError } from './errors.js';
import { createHasher, DEFAULT_HASH, HashingPassThrough, hashBytes, hashStream } from './hash.js';

describe('hashing', () => {
  it('gives the known XXH3-64 digest of "abc"', () => {
    expect(DEFAULT_HASH).toBe('xxh3-64');
    expect(hashBytes('abc')).toBe('78af5f94892f3950');
    expect(hashBytes('')).toBe('2d06800538d394c2');
  });

  it.each(['md5', 'sha1', 'sha256'] as const)('computes %s like node:crypto', (algorithm) => {
    expect(hashBytes('hello', algorithm)).toBe(createHash(algorithm).update('hello').digest('hex'));
  });

  it('gives the same digest whether the bytes arrive at once or in chunks', async () => {
    const data = Buffer.alloc(300_000, 7);
    data.write('varied content', 1000);
    const chunks = [data.subarray(0, 1), data.subarray(1, 65_537), data.subarray(65_537)];
    for (const algorithm of ['xxh3-64', 'md5', 'sha256'] as const) {
      expect(await hashStream(Readable.from(chunks), algorithm)).toBe(hashBytes(data, algorithm));
    }
  });

  it('rejects an algorithm it cannot compute with HASH_UNAVAILABLE', () => {
    expect(() => createHasher('etag')).toThrow(expect.objectContaining({ code: 'HASH_UNAVAILABLE' }));
    try {
      createHasher('crc32');
    } catch (error) {
      expect(isSyncError(error, 'HASH_UNAVAILABLE')).toBe(true);
    }
  });

  it('hashes and counts bytes while they are copied', async () => {
    const data = Buffer.from('copied bytes '.repeat(10_000));
    const hashing = new HashingPassThrough(['xxh3-64', 'sha1']);
    const received: Buffer[] = [];
    await pipeline(Readable.from([data.subarray(0, 5000), data.subarray(5000)]), hashing, async (source) => {
      for await (const chunk of source) received.push(chunk as Buffer);
    });
    expect(Buffer.concat(received).equals(data)).toBe(true);
    expect(hashing.bytes).toBe(data.length);
    expect(hashing.digest()).toBe(hashBytes(data));
    expect(hashing.digest('sha1')).toBe(hashBytes(data, 'sha1'));
    expect(hashing.digest()).toBe(hashBytes(data));
  });

  it('fails before its end when a different number of bytes than expected went through', async () => {
    const sink: Buffer[] = [];
    const counting = new HashingPassThrough([], { expectedSize: 10, path: 'a.txt' });
    const error = await pipeline(Readable.from([Buffer.from('only six')]), counting, async (source) => {
      for await (const chunk of source) sink.push(chunk as Buffer);
    }).catch((caught: unknown) => caught);
    expect(isSyncError(error, 'CHANGED_DURING_TRANSFER')).toBe(true);
    expect((error as Error).message).toBe('"a.txt": expected 10 bytes, received 8');
    expect(counting.bytes).toBe(8);
  });

  it('passes the expected number of bytes through and counts them without hashing', async () => {
    const counting = new HashingPassThrough([], { expectedSize: 5 });
    const chunks: Buffer[] = [];
    await pipeline(Readable.from([Buffer.from('hel'), Buffer.from('lo')]), counting, async (source) => {
      for await (const chunk of source) chunks.push(chunk as Buffer);
    });
    expect(Buffer.concat(chunks).toString()).toBe('hello');
    expect(counting.bytes).toBe(5);
  });

  it('stops with CANCELLED at the next chunk once its signal is aborted', async () => {
    const abort = new AbortController();
    abort.abort();
    const counting = new HashingPassThrough([], { signal: abort.signal });
    const error = await pipeline(Readable.from([Buffer.from('x')]), counting, async (source) => {
      for await (const _ of source) {
        // drain
      }
    }).catch((caught: unknown) => caught);
    expect(isSyncError(error, 'CANCELLED')).toBe(true);
    expect(counting.bytes).toBe(0);
  });
});
