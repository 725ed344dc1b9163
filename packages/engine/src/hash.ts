import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { Transform, type TransformCallback } from 'node:stream';
import { SyncError } from './errors.js';
import type { HashAlgorithm } from './model.js';

/**
 * The engine's fast content hash: 64-bit XXH3, streamed. Non-cryptographic, used to
 * compare local files and detect renames; combined with the size, collisions are not a
 * practical concern for change detection.
 */
export const DEFAULT_HASH: HashAlgorithm = 'xxh3-64';

/**
 * Where the XXH3 module loads from, for worker threads that hash what they copy (null when
 * it cannot be resolved: they leave the hashing to the calling thread then).
 */
export const XXH3_MODULE: string | null = (() => {
  try {
    return createRequire(import.meta.url).resolve('@node-rs/xxhash');
  } catch {
    return null;
  }
})();

/**
 * The native XXH3 module, loaded at the first hash rather than with the engine: a run that
 * finds nothing to copy or compare by content never needs it, and loading it is a good
 * part of a command's start-up.
 */
let xxh3Module: typeof import('@node-rs/xxhash') | undefined;
const loadXxh3 = () => {
  xxh3Module ??= createRequire(import.meta.url)('@node-rs/xxhash') as typeof import('@node-rs/xxhash');
  return xxh3Module.xxh3;
};

/** Algorithms `createHasher` can compute locally, cheapest first. */
export const LOCAL_HASH_ALGORITHMS: readonly HashAlgorithm[] = ['xxh3-64', 'md5', 'sha1', 'sha256'];

/** An incremental hasher. `digest()` returns lowercase hex and may be called once. */
export interface Hasher {
  readonly algorithm: HashAlgorithm;
  update(chunk: Uint8Array | string): void;
  digest(): string;
}

/** True when `createHasher(algorithm)` can compute `algorithm`. */
export function canHashLocally(algorithm: HashAlgorithm): boolean {
  return LOCAL_HASH_ALGORITHMS.includes(algorithm);
}

/** Creates a hasher; throws `SyncError('HASH_UNAVAILABLE')` for an algorithm that cannot be computed locally. */
export function createHasher(algorithm: HashAlgorithm): Hasher {
  switch (algorithm) {
    case 'xxh3-64': {
      const state = loadXxh3().Xxh3.withSeed();
      return {
        algorithm,
        update(chunk) {
          state.update(chunk);
        },
        digest() {
          return state.digest().toString(16).padStart(16, '0');
        },
      };
    }
    case 'md5':
    case 'sha1':
    case 'sha256': {
      const state = createHash(algorithm);
      return {
        algorithm,
        update(chunk) {
          state.update(chunk);
        },
        digest() {
          return state.digest('hex');
        },
      };
    }
    default:
      throw new SyncError(
        'HASH_UNAVAILABLE',
        `hash algorithm "${algorithm}" cannot be computed locally (available: ${LOCAL_HASH_ALGORITHMS.join(', ')})`,
      );
  }
}

/** Hash of in-memory bytes, in one call (no hasher state to create and collect). */
export function hashBytes(data: Uint8Array | string, algorithm: HashAlgorithm = DEFAULT_HASH): string {
  if (algorithm === 'xxh3-64') return loadXxh3().xxh64(data).toString(16).padStart(16, '0');
  const hasher = createHasher(algorithm);
  hasher.update(data);
  return hasher.digest();
}

/** Hash of everything a stream yields. */
export async function hashStream(
  stream: AsyncIterable<Uint8Array | string>,
  algorithm: HashAlgorithm = DEFAULT_HASH,
): Promise<string> {
  const hasher = createHasher(algorithm);
  for await (const chunk of stream) hasher.update(chunk);
  return hasher.digest();
}

/** Checks a `HashingPassThrough` makes on the bytes it passes. */
export interface PassThroughChecks {
  /** Fails the stream with CANCELLED at the next chunk once aborted. */
  signal?: AbortSignal | undefined;
  /**
   * Fails the stream with CHANGED_DURING_TRANSFER before it ends when a different number
   * of bytes went through, so a writer reading it never commits a short or long file.
   */
  expectedSize?: number | undefined;
  /** Named in the size error. */
  path?: string | undefined;
}

/**
 * A pass-through stream that hashes (in none, one or more algorithms) and counts the
 * bytes flowing through it, so a transfer can verify what it copied without reading twice:
 * `storage.write(path, source.pipe(hashing))`, then `hashing.digest(algorithm)`.
 */
export class HashingPassThrough extends Transform {
  private readonly hashers: Map<HashAlgorithm, Hasher>;
  private readonly digests = new Map<HashAlgorithm, string>();
  private readonly checks: PassThroughChecks;
  /** Bytes seen so far. */
  bytes = 0;

  constructor(
    algorithms: HashAlgorithm | readonly HashAlgorithm[] = DEFAULT_HASH,
    checks: PassThroughChecks = {},
  ) {
    super();
    const list = typeof algorithms === 'string' ? [algorithms] : algorithms;
    this.hashers = new Map(list.map((algorithm) => [algorithm, createHasher(algorithm)]));
    this.checks = checks;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.checks.signal?.aborted) {
      callback(new SyncError('CANCELLED', 'the operation was cancelled'));
      return;
    }
    this.bytes += chunk.length;
    for (const hasher of this.hashers.values()) hasher.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const { expectedSize, path } = this.checks;
    if (expectedSize !== undefined && this.bytes !== expectedSize) {
      callback(
        new SyncError(
          'CHANGED_DURING_TRANSFER',
          `"${path ?? 'stream'}": expected ${expectedSize} bytes, received ${this.bytes}`,
          { path },
        ),
      );
      return;
    }
    callback();
  }

  /** The hash of all bytes that passed, once the stream has ended. */
  digest(algorithm?: HashAlgorithm): string {
    const key = algorithm ?? this.hashers.keys().next().value;
    if (key === undefined) throw new SyncError('INTERNAL', 'no hash algorithm configured');
    const done = this.digests.get(key);
    if (done !== undefined) return done;
    const hasher = this.hashers.get(key);
    if (!hasher) throw new SyncError('HASH_UNAVAILABLE', `this stream does not compute "${key}"`);
    const digest = hasher.digest();
    this.digests.set(key, digest);
    return digest;
  }
}
