import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Readable, Transform } from 'node:stream';
import {
  CopyObjectCommand,
  type CopyObjectCommandInput,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  abortIfNeeded,
  createHasher,
  DEFAULT_RETRY,
  type Entry,
  forEachLimited,
  type HashAlgorithm,
  HashingPassThrough,
  type ListOptions,
  normalizeRelativePath,
  type RetryPolicy,
  type Storage,
  type StorageCapabilities,
  SyncError,
  type WriteOptions,
  withRetry,
} from '@syncengine/engine';

/** Where and how to reach an S3-compatible bucket. */
export interface S3StorageOptions {
  bucket: string;
  /** Key prefix acting as the root, without leading or trailing `/`. Default: the whole bucket. */
  prefix?: string;
  /** Endpoint of an S3-compatible service; AWS when absent. */
  endpoint?: string;
  /** Default `us-east-1`. */
  region?: string;
  /** Path-style addressing (`endpoint/bucket/key`), which most self-hosted services need. */
  forcePathStyle?: boolean;
  /** Static credentials; without them the SDK's chain is used (AWS_* variables, profiles, instance roles). */
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /** Uploads larger than this go multipart, in parts of this size. Default 8 MiB (S3's minimum is 5 MiB). */
  partSize?: number;
  /** Parts uploaded at once per multipart upload. Default 4. */
  partConcurrency?: number;
  /** Sockets kept open at most. Default 32. */
  connections?: number;
  /**
   * Read each object's stored mtime (`x-amz-meta-mtime`) while listing, one HEAD request per
   * object. Default true. When false, listings report the upload time (`LastModified`,
   * whole seconds) and mtimes cannot be preserved.
   */
  listMtimes?: boolean;
  /** Keys per listing request (S3 allows up to 1 000, the default). */
  pageSize?: number;
  retry?: Partial<RetryPolicy>;
  /** Per-request timeout. Default 60 s. */
  requestTimeoutMs?: number;
}

/** Metadata key holding the file's mtime in ms (sent as the `x-amz-meta-mtime` header). */
export const MTIME_METADATA_KEY = 'mtime';

const TRANSIENT_NAMES = new Set([
  'SlowDown',
  'RequestTimeout',
  'RequestTimeTooSkewed',
  'InternalError',
  'ServiceUnavailable',
  'TimeoutError',
  'Throttling',
  'ThrottlingException',
  'RequestTimeoutException',
]);
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
]);

interface AwsErrorLike {
  name?: string;
  code?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

function statusOf(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null
    ? (error as AwsErrorLike).$metadata?.httpStatusCode
    : undefined;
}

function nameOf(error: unknown): string {
  if (typeof error !== 'object' || error === null) return '';
  const like = error as AwsErrorLike;
  return like.Code ?? like.name ?? '';
}

function isNotFound(error: unknown): boolean {
  const name = nameOf(error);
  return statusOf(error) === 404 || name === 'NoSuchKey' || name === 'NotFound';
}

/** Maps an SDK or network error to a `SyncError`. */
function mapError(error: unknown, action: string, path: string, bucket: string): SyncError {
  if (error instanceof SyncError) return error;
  const status = statusOf(error);
  const name = nameOf(error);
  const code = typeof error === 'object' && error !== null ? (error as AwsErrorLike).code : undefined;
  const message = error instanceof Error ? error.message || name : String(error);
  const text = `${action} "${path}": ${message}`;
  if (name === 'NoSuchBucket') {
    return new SyncError('NOT_FOUND', `the bucket "${bucket}" does not exist`, { cause: error, path });
  }
  if (isNotFound(error)) return new SyncError('NOT_FOUND', text, { cause: error, path });
  if (status === 401 || status === 403 || name === 'AccessDenied' || name === 'InvalidAccessKeyId') {
    return new SyncError('PERMISSION', text, { cause: error, path });
  }
  if (status === 409 || status === 412) return new SyncError('CONFLICT', text, { cause: error, path });
  if (
    (status !== undefined && (status >= 500 || status === 429 || status === 408)) ||
    TRANSIENT_NAMES.has(name) ||
    (code !== undefined && NETWORK_CODES.has(code)) ||
    /socket hang up|ECONNRESET|ECONNREFUSED|EPIPE|timed? ?out/i.test(message)
  ) {
    return new SyncError('TRANSIENT', text, { cause: error, path });
  }
  return new SyncError('INTERNAL', text, { cause: error, path });
}

/** An S3 ETag that is the MD5 of the content: not multipart (`…-N`), a plain 32-hex string. */
function md5FromEtag(etag: string | undefined, encryption?: string): string | undefined {
  if (!etag || encryption === 'aws:kms' || encryption === 'aws:kms:dsse') return undefined;
  const bare = etag.replace(/"/g, '').toLowerCase();
  return /^[0-9a-f]{32}$/.test(bare) ? bare : undefined;
}

/** Encodes a CopySource `bucket/key`: each segment URI-encoded, the slashes kept. */
function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * A `Storage` on an S3-compatible bucket under a key prefix. S3 has no directories
 * (`hasDirectories: false`): folders are the prefixes of keys, and `mkdir` writes a `dir/`
 * marker object (as S3 consoles do) so that the engine's empty folders survive.
 *
 * Writes are single PUTs, or multipart uploads above `partSize`; either way the object
 * appears only when complete, so a failed write leaves the previous content. The file's
 * mtime is kept in `x-amz-meta-mtime`. The ETag is offered as the `md5` hash where it is
 * one (not for multipart uploads or SSE-KMS); otherwise `hash()` reads the object.
 * Renames are a server-side copy followed by a delete (objects up to 5 GB).
 */
export class S3Storage implements Storage {
  readonly kind = 's3';
  readonly description: string;
  readonly capabilities: StorageCapabilities;

  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partSize: number;
  private readonly partConcurrency: number;
  private readonly listMtimes: boolean;
  private readonly pageSize: number;
  private readonly retry: RetryPolicy;
  private readonly agents: (HttpAgent | HttpsAgent)[];

  constructor(options: S3StorageOptions) {
    this.bucket = options.bucket;
    this.prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.partSize = Math.max(5 * 1024 * 1024, options.partSize ?? 8 * 1024 * 1024);
    this.partConcurrency = options.partConcurrency ?? 4;
    this.listMtimes = options.listMtimes ?? true;
    this.pageSize = Math.min(1000, Math.max(1, options.pageSize ?? 1000));
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    const where = options.endpoint ? ` at ${options.endpoint}` : '';
    this.description = `s3://${this.bucket}${this.prefix ? `/${this.prefix}` : ''}${where}`;
    this.capabilities = {
      hashAlgorithms: ['md5'],
      hasListingHashes: true,
      mtimePrecisionMs: this.listMtimes ? 1 : 1000,
      canSetMtime: this.listMtimes,
      caseSensitive: true,
      serverSideMove: false,
      serverSideCopy: true,
      stableIds: false,
      hasDirectories: false,
    };
    const maxSockets = options.connections ?? 32;
    const httpAgent = new HttpAgent({ keepAlive: true, maxSockets });
    const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets });
    this.agents = [httpAgent, httpsAgent];
    const config: S3ClientConfig = {
      region: options.region ?? 'us-east-1',
      forcePathStyle: options.forcePathStyle ?? false,
      // Retries are ours (withRetry), so that every backend has the same budget and message.
      maxAttempts: 1,
      // The SDK's default CRC checksums (aws-chunked uploads with trailers) are not
      // understood by many S3-compatible servers; checksums only where S3 requires them.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        httpAgent,
        httpsAgent,
        connectionTimeout: 10_000,
        requestTimeout: options.requestTimeoutMs ?? 60_000,
      },
    };
    if (options.endpoint) config.endpoint = options.endpoint;
    if (options.accessKeyId && options.secretAccessKey) {
      config.credentials = {
        accessKeyId: options.accessKeyId,
        secretAccessKey: options.secretAccessKey,
        ...(options.sessionToken ? { sessionToken: options.sessionToken } : {}),
      };
    }
    this.client = new S3Client(config);
  }

  private key(rel: string): string {
    return this.prefix === '' ? rel : `${this.prefix}/${rel}`;
  }

  private relative(key: string): string | null {
    const start = this.prefix === '' ? '' : `${this.prefix}/`;
    if (!key.startsWith(start)) return null;
    return key.slice(start.length);
  }

  private run<T>(action: string, path: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withRetry(
      `${this.description}: ${action} "${path}"`,
      this.retry,
      async () => {
        try {
          return await work();
        } catch (error) {
          throw mapError(error, action, path, this.bucket);
        }
      },
      signal,
    );
  }

  private async head(rel: string): Promise<HeadObjectCommandOutput | null> {
    try {
      return await this.run('stat', rel, () =>
        this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(rel) })),
      );
    } catch (error) {
      if (error instanceof SyncError && error.code === 'NOT_FOUND') return null;
      throw error;
    }
  }

  private entryFromHead(rel: string, head: HeadObjectCommandOutput): Entry {
    const stored = Number(head.Metadata?.[MTIME_METADATA_KEY]);
    const entry: Entry = {
      path: rel,
      size: head.ContentLength ?? 0,
      mtime: Number.isFinite(stored) && stored > 0 ? stored : (head.LastModified?.getTime() ?? 0),
      isDir: false,
    };
    const md5 = md5FromEtag(head.ETag, head.ServerSideEncryption);
    if (md5) {
      entry.hash = md5;
      entry.hashAlgorithm = 'md5';
    }
    return entry;
  }

  /** Keys below `rel/` (at most `limit`), the folder's own marker `rel/` included. */
  private async keysBelow(rel: string, limit: number): Promise<string[]> {
    const page = await this.run('list', rel, () =>
      this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${this.key(rel)}/`, MaxKeys: limit }),
      ),
    );
    return (page.Contents ?? []).flatMap((object) => (object.Key === undefined ? [] : [object.Key]));
  }

  /** True when some object lives below `rel/` (a folder marker or any key). */
  private async hasChildren(rel: string): Promise<boolean> {
    return (await this.keysBelow(rel, 1)).length > 0;
  }

  // --- Storage -----------------------------------------------------------------------

  /**
   * One flat, paginated listing of the prefix. Folders come from the keys: every prefix
   * of a key is a folder (offered to include() and reported once, before its contents),
   * and `dir/` marker objects keep empty folders.
   */
  async *list(options: ListOptions = {}): AsyncIterable<Entry> {
    const base = this.prefix === '' ? '' : `${this.prefix}/`;
    let token: string | undefined;
    const seenDirs = new Set<string>();
    const skipped: string[] = [];
    const isSkipped = (path: string): boolean => skipped.some((dir) => path.startsWith(`${dir}/`));
    do {
      abortIfNeeded(options.signal);
      const page: ListObjectsV2CommandOutput = await this.run(
        'list',
        '',
        () =>
          this.client.send(
            new ListObjectsV2Command({
              Bucket: this.bucket,
              Prefix: base,
              ContinuationToken: token,
              MaxKeys: this.pageSize,
            }),
          ),
        options.signal,
      );
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      /** This page's entries in order; files still to be completed by a HEAD carry `pending`. */
      const out: { entry: Entry; pending: boolean }[] = [];
      const offerDir = (dir: string): boolean => {
        if (seenDirs.has(dir)) return !skipped.includes(dir) && !isSkipped(dir);
        seenDirs.add(dir);
        if (options.include && !options.include(dir, true)) {
          skipped.push(dir);
          return false;
        }
        out.push({ entry: { path: dir, size: 0, mtime: 0, isDir: true }, pending: false });
        return true;
      };
      for (const object of page.Contents ?? []) {
        const raw = object.Key === undefined ? null : this.relative(object.Key);
        if (!raw) continue;
        const isMarker = raw.endsWith('/');
        let path: string;
        try {
          path = normalizeRelativePath(isMarker ? raw.slice(0, -1) : raw);
        } catch {
          // Keys that are not valid relative paths (`a//b`, `../x`) are never synced.
          continue;
        }
        if (path !== (isMarker ? raw.slice(0, -1) : raw).normalize('NFC') || isSkipped(path)) continue;
        const segments = path.split('/');
        let isRejected = false;
        for (let depth = 1; depth < segments.length && !isRejected; depth++) {
          isRejected = !offerDir(segments.slice(0, depth).join('/'));
        }
        if (isRejected) continue;
        if (isMarker) {
          offerDir(path);
          continue;
        }
        if (options.include && !options.include(path, false)) continue;
        const entry: Entry = {
          path,
          size: object.Size ?? 0,
          mtime: object.LastModified?.getTime() ?? 0,
          isDir: false,
        };
        const md5 = md5FromEtag(object.ETag);
        if (md5) {
          entry.hash = md5;
          entry.hashAlgorithm = 'md5';
        }
        out.push({ entry, pending: this.listMtimes });
      }
      if (this.listMtimes) {
        // The stored mtime is only in each object's metadata: one HEAD per file.
        await forEachLimited(
          out.filter((item) => item.pending),
          16,
          async (item) => {
            const head = await this.head(item.entry.path);
            // Deleted between the listing and the HEAD: left out.
            item.entry = head ? this.entryFromHead(item.entry.path, head) : { ...item.entry, path: '' };
          },
        );
      }
      for (const item of out) if (item.entry.path !== '') yield item.entry;
    } while (token);
  }

  async stat(path: string): Promise<Entry | null> {
    const rel = normalizeRelativePath(path);
    const head = await this.head(rel);
    if (head) return this.entryFromHead(rel, head);
    // A folder exists while a marker or anything else lives below it.
    if (await this.hasChildren(rel)) return { path: rel, size: 0, mtime: 0, isDir: true };
    return null;
  }

  async read(path: string, options?: { signal?: AbortSignal }): Promise<Readable> {
    const rel = normalizeRelativePath(path);
    abortIfNeeded(options?.signal);
    const response = await this.run(
      'read',
      rel,
      () =>
        this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(rel) }), {
          abortSignal: options?.signal,
        }),
      options?.signal,
    );
    const body = response.Body;
    if (!(body instanceof Readable)) {
      throw new SyncError('INTERNAL', `${this.description}: "${rel}" came back without a readable body`);
    }
    const bucket = this.bucket;
    const mapped = new Transform({
      transform(chunk, _encoding, callback) {
        callback(null, chunk);
      },
    });
    body.on('error', (error) => mapped.destroy(mapError(error, 'read', rel, bucket)));
    return body.pipe(mapped);
  }

  async write(
    path: string,
    data: Readable | AsyncIterable<Uint8Array>,
    options: WriteOptions = {},
  ): Promise<Entry> {
    const rel = normalizeRelativePath(path);
    // No check for objects below `rel/`: a key and a prefix of the same name can coexist in
    // S3, and a LIST per write would double the requests of every transfer.
    const mtime = options.mtime ?? Date.now();
    // Counts and hashes the bytes; a wrong count fails the stream before its end, so the
    // upload is aborted and the object is never created or replaced.
    const counter = new HashingPassThrough('md5', {
      signal: options.signal,
      expectedSize: options.size,
      path: rel,
    });
    const source = data instanceof Readable ? data : Readable.from(data);
    source.on('error', (error) => counter.destroy(error));
    source.pipe(counter);
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: this.key(rel),
        Body: counter,
        Metadata: { [MTIME_METADATA_KEY]: String(Math.round(mtime)) },
      },
      partSize: this.partSize,
      queueSize: this.partConcurrency,
      leavePartsOnError: false,
    });
    const onAbort = (): void => {
      void upload.abort();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let etag: string | undefined;
    try {
      const result = await upload.done();
      etag = result.ETag;
    } catch (error) {
      // The stream's own error (size mismatch, failing source) is the one worth reporting.
      const cause = counter.errored ?? error;
      throw mapError(cause, 'write', rel, this.bucket);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    const entry: Entry = { path: rel, size: counter.bytes, mtime: Math.round(mtime), isDir: false };
    const md5 = counter.digest('md5');
    // Keep the hash only where the listing will report the same one.
    if (md5FromEtag(etag) === md5) {
      entry.hash = md5;
      entry.hashAlgorithm = 'md5';
    }
    return entry;
  }

  async delete(path: string): Promise<void> {
    const rel = normalizeRelativePath(path);
    const head = await this.head(rel);
    if (head) {
      await this.run('delete', rel, () =>
        this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(rel) })),
      );
      return;
    }
    const marker = `${this.key(rel)}/`;
    const below = await this.keysBelow(rel, 2);
    if (below.some((key) => key !== marker)) {
      throw new SyncError('CONFLICT', `folder "${rel}" is not empty`, { path: rel });
    }
    if (below.length > 0) {
      await this.run('delete', rel, () =>
        this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: marker })),
      );
    }
  }

  /** Server-side copy of one object, keeping its metadata (and so its mtime). */
  private async copyObject(
    from: string,
    to: string,
    extra: Partial<CopyObjectCommandInput> = {},
  ): Promise<void> {
    await this.run('copy', from, () =>
      this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: this.key(to),
          CopySource: copySource(this.bucket, this.key(from)),
          MetadataDirective: 'COPY',
          ...extra,
        }),
      ),
    );
  }

  async copy(from: string, to: string): Promise<void> {
    const source = normalizeRelativePath(from);
    const target = normalizeRelativePath(to);
    if (!(await this.head(source)))
      throw new SyncError('NOT_FOUND', `"${source}" does not exist`, { path: source });
    await this.copyObject(source, target);
  }

  async rename(from: string, to: string): Promise<void> {
    const source = normalizeRelativePath(from);
    const target = normalizeRelativePath(to);
    if (source === target) return;
    if (target.startsWith(`${source}/`)) {
      throw new SyncError('CONFLICT', `cannot move "${source}" into itself`, { path: target });
    }
    if ((await this.head(target)) || (await this.hasChildren(target))) {
      throw new SyncError('CONFLICT', `cannot rename "${source}": "${target}" already exists`, {
        path: target,
      });
    }
    if (await this.head(source)) {
      await this.copyObject(source, target);
      await this.run('delete', source, () =>
        this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(source) })),
      );
      return;
    }
    // A folder: move every object below it, its marker included.
    const sourceKey = `${this.key(source)}/`;
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page: ListObjectsV2CommandOutput = await this.run('list', source, () =>
        this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: sourceKey, ContinuationToken: token }),
        ),
      );
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    if (keys.length === 0) throw new SyncError('NOT_FOUND', `"${source}" does not exist`, { path: source });
    const targetKey = `${this.key(target)}/`;
    await forEachLimited(keys, 8, async (key) => {
      const destination = targetKey + key.slice(sourceKey.length);
      await this.run('copy', source, () =>
        this.client.send(
          new CopyObjectCommand({
            Bucket: this.bucket,
            Key: destination,
            CopySource: copySource(this.bucket, key),
            MetadataDirective: 'COPY',
          }),
        ),
      );
      await this.run('delete', source, () =>
        this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })),
      );
    });
  }

  /** Keeps a folder, even an empty one, with a `dir/` marker object, as S3 consoles do. */
  async mkdir(path: string): Promise<void> {
    const rel = normalizeRelativePath(path);
    if (await this.head(rel)) {
      throw new SyncError('CONFLICT', `cannot create folder "${rel}": a file is there`, { path: rel });
    }
    await this.run('create folder', rel, () =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: `${this.key(rel)}/`,
          Body: new Uint8Array(0),
          ContentLength: 0,
        }),
      ),
    );
  }

  async setMtime(path: string, mtime: number): Promise<void> {
    const rel = normalizeRelativePath(path);
    const head = await this.head(rel);
    if (!head) throw new SyncError('NOT_FOUND', `"${rel}" does not exist`, { path: rel });
    // Metadata can only be replaced by copying the object onto itself.
    await this.copyObject(rel, rel, {
      MetadataDirective: 'REPLACE',
      Metadata: { ...head.Metadata, [MTIME_METADATA_KEY]: String(Math.round(mtime)) },
      ...(head.ContentType ? { ContentType: head.ContentType } : {}),
    });
  }

  async hash(path: string, algorithm: HashAlgorithm, options?: { signal?: AbortSignal }): Promise<string> {
    const rel = normalizeRelativePath(path);
    if (algorithm !== 'md5') {
      throw new SyncError('HASH_UNAVAILABLE', `${this.description} does not offer "${algorithm}" hashes`, {
        path: rel,
      });
    }
    const head = await this.head(rel);
    if (!head) throw new SyncError('NOT_FOUND', `"${rel}" does not exist`, { path: rel });
    const md5 = md5FromEtag(head.ETag, head.ServerSideEncryption);
    if (md5) return md5;
    // Multipart or encrypted: the ETag is not the MD5, so read the object.
    const hasher = createHasher('md5');
    for await (const chunk of await this.read(rel, options)) hasher.update(chunk as Buffer);
    return hasher.digest();
  }

  /** Destroys every open socket, as a network failure would. For tests of reconnection. */
  dropConnections(): void {
    for (const agent of this.agents) {
      for (const sockets of Object.values(agent.sockets))
        for (const socket of sockets ?? []) socket.destroy();
      for (const sockets of Object.values(agent.freeSockets))
        for (const socket of sockets ?? []) socket.destroy();
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
    for (const agent of this.agents) agent.destroy();
  }
}
