import { randomBytes } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Readable, Transform } from 'node:stream';
import {
  abortIfNeeded,
  comparePaths,
  DEFAULT_RETRY,
  type Entry,
  type HashAlgorithm,
  HashingPassThrough,
  type ListOptions,
  normalizeRelativePath,
  parentPath,
  type RetryPolicy,
  type Storage,
  type StorageCapabilities,
  SyncError,
  tempPathFor,
  type WriteOptions,
  withRetry,
} from '@syncengine/engine';
import { createClient, type FileStat, type WebDAVClient } from 'webdav';

/**
 * How the server keeps mtimes: `x-oc-mtime` sends the `X-OC-Mtime` header on upload
 * (Nextcloud, ownCloud, and servers that copy them); `none` leaves mtimes to the server
 * (the upload time); `auto` finds out with a probe file when `probe()` is called.
 */
export type WebdavMtimeMode = 'auto' | 'x-oc-mtime' | 'none';

/** Where and how to reach a WebDAV server. */
export interface WebdavStorageOptions {
  /** `http://` or `https://` URL of the root collection. */
  url: string;
  username?: string;
  password?: string;
  /** Default `auto` (resolved by `probe()`; `none` until then). */
  mtime?: WebdavMtimeMode;
  /** Whether the server tells `A.txt` from `a.txt`. Default true. */
  caseSensitive?: boolean;
  /** Sockets kept open at most. Default 16. */
  connections?: number;
  retry?: Partial<RetryPolicy>;
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

interface HttpErrorLike {
  status?: number;
  code?: string;
  errno?: string;
  type?: string;
}

function statusOf(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null ? (error as HttpErrorLike).status : undefined;
}

function isTransient(error: unknown): boolean {
  const status = statusOf(error);
  if (status !== undefined) return status >= 500 || status === 429 || status === 408 || status === 423;
  const like = typeof error === 'object' && error !== null ? (error as HttpErrorLike) : {};
  const code = like.code ?? like.errno;
  const message = error instanceof Error ? error.message : String(error);
  return (
    (code !== undefined && NETWORK_CODES.has(code)) ||
    like.type === 'system' ||
    /socket hang up|ECONNRESET|ECONNREFUSED|EPIPE|premature close|timed? ?out/i.test(message)
  );
}

/** Maps an HTTP or network error to a `SyncError`. */
function mapError(error: unknown, action: string, path: string): SyncError {
  if (error instanceof SyncError) return error;
  const status = statusOf(error);
  const message = error instanceof Error ? error.message : String(error);
  const text = `${action} "${path}": ${message}`;
  if (status === 404 || status === 410) return new SyncError('NOT_FOUND', text, { cause: error, path });
  if (status === 401 || status === 403) return new SyncError('PERMISSION', text, { cause: error, path });
  if (status === 405 || status === 409 || status === 412) {
    return new SyncError('CONFLICT', text, { cause: error, path });
  }
  if (isTransient(error)) return new SyncError('TRANSIENT', text, { cause: error, path });
  return new SyncError('INTERNAL', text, { cause: error, path });
}

/** The path the client addresses (`/a/b`), from a relative path (`a/b`, or `` for the root). */
function remote(rel: string): string {
  return `/${rel}`;
}

/**
 * A `Storage` on a WebDAV server. Listings ask for `Depth: infinity` and fall back to one
 * `Depth: 1` PROPFIND per folder when the server refuses or quietly downgrades it.
 * Renames are MOVE, server-side copies COPY. Writes PUT a temporary name and MOVE it into
 * place, so a failed upload never replaces the previous content.
 *
 * The ETag is offered as an `etag` hash: it changes when the file does, so it detects
 * changes on this side, but it is not a content hash and never matches another backend.
 * Most servers cannot set mtimes (the upload time is reported instead): then
 * `mtimePrecisionMs` is null. Servers that accept `X-OC-Mtime` keep them to the second.
 */
export class WebdavStorage implements Storage {
  readonly kind = 'webdav';
  readonly description: string;
  readonly capabilities: StorageCapabilities;

  private readonly client: WebDAVClient;
  private readonly retry: RetryPolicy;
  private readonly agents: (HttpAgent | HttpsAgent)[];
  private mtimeMode: WebdavMtimeMode;
  /**
   * Folders this storage created or saw, so that a write into a known folder skips the
   * PROPFIND per level. Cleared on anything that removes or moves folders, and after a
   * failed write (the folder may have gone behind our back).
   */
  private readonly knownDirs = new Set<string>();
  /** Null until known: whether PROPFIND with `Depth: infinity` returns the whole tree. */
  private isInfinityHonoured: boolean | null = null;

  constructor(options: WebdavStorageOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new SyncError(
        'INVALID_CONFIG',
        `a WebDAV URL must start with http:// or https:// (got ${url.protocol})`,
      );
    }
    url.username = '';
    url.password = '';
    const scheme = url.protocol === 'https:' ? 'webdavs' : 'webdav';
    const user = options.username ? `${encodeURIComponent(options.username)}@` : '';
    this.description = `${scheme}://${user}${url.host}${url.pathname}`;
    this.mtimeMode = options.mtime ?? 'auto';
    const canSetMtime = this.mtimeMode === 'x-oc-mtime';
    this.capabilities = {
      hashAlgorithms: ['etag'],
      hasListingHashes: true,
      mtimePrecisionMs: canSetMtime ? 1000 : null,
      canSetMtime,
      caseSensitive: options.caseSensitive ?? true,
      serverSideMove: true,
      serverSideCopy: true,
      stableIds: false,
      hasDirectories: true,
    };
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    const maxSockets = options.connections ?? 16;
    const httpAgent = new HttpAgent({ keepAlive: true, maxSockets });
    const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets });
    this.agents = [httpAgent, httpsAgent];
    this.client = createClient(url.toString().replace(/\/$/, ''), {
      username: options.username,
      password: options.password,
      httpAgent,
      httpsAgent,
    });
  }

  private run<T>(action: string, path: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withRetry(
      `${this.description}: ${action} "${path}"`,
      this.retry,
      async () => {
        try {
          return await work();
        } catch (error) {
          throw mapError(error, action, path);
        }
      },
      signal,
    );
  }

  private toEntry(rel: string, stat: FileStat): Entry {
    const isDir = stat.type === 'directory';
    const parsed = Date.parse(stat.lastmod);
    const entry: Entry = {
      path: rel,
      size: isDir ? 0 : stat.size,
      mtime: Number.isFinite(parsed) ? parsed : 0,
      isDir,
    };
    if (!isDir && stat.etag) {
      entry.hash = stat.etag.replace(/^W\//, '').replace(/"/g, '');
      entry.hashAlgorithm = 'etag';
    }
    return entry;
  }

  private async statRaw(rel: string): Promise<FileStat | null> {
    try {
      return (await this.run('stat', rel, () => this.client.stat(remote(rel)))) as FileStat;
    } catch (error) {
      if (error instanceof SyncError && error.code === 'NOT_FOUND') return null;
      throw error;
    }
  }

  /** The collection's children (Depth 1), as relative paths. */
  private async children(rel: string, signal?: AbortSignal): Promise<{ path: string; stat: FileStat }[]> {
    const items = (await this.run(
      'list',
      rel,
      () => this.client.getDirectoryContents(remote(rel)),
      signal,
    )) as FileStat[];
    return items
      .map((stat) => ({ path: stat.filename.replace(/^\/+|\/+$/g, '').normalize('NFC'), stat }))
      .filter((item) => item.path !== '' && item.path !== rel && parentPath(item.path) === rel);
  }

  /** Finds out which optional features the server has: mtimes through `X-OC-Mtime`. Safe to call more than once. */
  async probe(): Promise<StorageCapabilities> {
    if (this.mtimeMode !== 'auto') return this.capabilities;
    this.mtimeMode = 'none';
    const root = await this.statRaw('').catch(() => null);
    if (root?.type !== 'directory') return this.capabilities;
    const probePath = tempPathFor(`.syncengine-probe-${randomBytes(4).toString('hex')}`);
    const wanted = Date.UTC(2001, 0, 2, 3, 4, 5);
    try {
      await this.client.putFileContents(remote(probePath), Buffer.from('probe'), {
        headers: { 'X-OC-Mtime': String(wanted / 1000) },
      });
      const stat = await this.statRaw(probePath);
      if (stat && Math.abs(Date.parse(stat.lastmod) - wanted) < 1000) {
        this.mtimeMode = 'x-oc-mtime';
        this.capabilities.canSetMtime = true;
        this.capabilities.mtimePrecisionMs = 1000;
      }
    } catch {
      // Read-only or unusual server: keep the conservative answer.
    } finally {
      await this.client.deleteFile(remote(probePath)).catch(() => undefined);
    }
    return this.capabilities;
  }

  // --- Storage -----------------------------------------------------------------------

  async *list(options: ListOptions = {}): AsyncIterable<Entry> {
    const root = await this.statRaw('');
    // A missing root is an empty location: it is created by the first write.
    if (!root) return;
    if (root.type !== 'directory')
      throw new SyncError('CONFLICT', `${this.description} is a file, not a folder`);
    const tree = this.isInfinityHonoured === false ? null : await this.listInfinity(options.signal);
    if (tree) {
      yield* this.walkTree(tree, '', options);
    } else {
      yield* this.walkDepthOne('', options);
    }
  }

  /**
   * The whole tree from one `Depth: infinity` PROPFIND, keyed by parent folder; null when
   * the server refuses it or answers with one level only.
   */
  private async listInfinity(
    signal?: AbortSignal,
  ): Promise<Map<string, { path: string; stat: FileStat }[]> | null> {
    let items: FileStat[];
    try {
      items = (await this.run(
        'list',
        '',
        () => this.client.getDirectoryContents('/', { deep: true }),
        signal,
      )) as FileStat[];
    } catch (error) {
      if (error instanceof SyncError && (error.code === 'PERMISSION' || error.code === 'INTERNAL')) {
        // 403 propfind-finite-depth, 400 or 501: Depth 1 it is.
        this.isInfinityHonoured = false;
        return null;
      }
      throw error;
    }
    const byParent = new Map<string, { path: string; stat: FileStat }[]>();
    let isDeep = false;
    const folders: string[] = [];
    for (const stat of items) {
      const path = stat.filename.replace(/^\/+|\/+$/g, '').normalize('NFC');
      if (path === '') continue;
      const parent = parentPath(path);
      if (parent !== '') isDeep = true;
      if (stat.type === 'directory') folders.push(path);
      const siblings = byParent.get(parent) ?? [];
      siblings.push({ path, stat });
      byParent.set(parent, siblings);
    }
    if (this.isInfinityHonoured === null && !isDeep) {
      // Only one level came back: either every folder is empty, or the server quietly
      // treated infinity as 1 (SabreDAV does). Ask the folders until one answers.
      for (const folder of folders) {
        if ((await this.children(folder, signal)).length > 0) {
          this.isInfinityHonoured = false;
          return null;
        }
      }
      return byParent;
    }
    if (isDeep) this.isInfinityHonoured = true;
    return byParent;
  }

  private async *walkTree(
    tree: Map<string, { path: string; stat: FileStat }[]>,
    dir: string,
    options: ListOptions,
  ): AsyncGenerator<Entry> {
    const children = [...(tree.get(dir) ?? [])].sort((a, b) => comparePaths(a.path, b.path));
    for (const child of children) {
      abortIfNeeded(options.signal);
      const isDir = child.stat.type === 'directory';
      if (!this.isListable(child.path)) continue;
      if (options.include && !options.include(child.path, isDir)) continue;
      yield this.toEntry(child.path, child.stat);
      if (isDir) yield* this.walkTree(tree, child.path, options);
    }
  }

  private async *walkDepthOne(dir: string, options: ListOptions): AsyncGenerator<Entry> {
    abortIfNeeded(options.signal);
    let children: { path: string; stat: FileStat }[];
    try {
      children = await this.children(dir, options.signal);
    } catch (error) {
      // Removed while listing: nothing below it any more.
      if (error instanceof SyncError && error.code === 'NOT_FOUND' && dir !== '') return;
      throw error;
    }
    children.sort((a, b) => comparePaths(a.path, b.path));
    for (const child of children) {
      const isDir = child.stat.type === 'directory';
      if (!this.isListable(child.path)) continue;
      if (options.include && !options.include(child.path, isDir)) continue;
      yield this.toEntry(child.path, child.stat);
      if (isDir) yield* this.walkDepthOne(child.path, options);
    }
  }

  /** Names a server may list that are not valid relative paths are left out. */
  private isListable(path: string): boolean {
    try {
      return normalizeRelativePath(path) === path;
    } catch {
      return false;
    }
  }

  async stat(path: string): Promise<Entry | null> {
    const rel = normalizeRelativePath(path);
    const stat = await this.statRaw(rel);
    return stat ? this.toEntry(rel, stat) : null;
  }

  async read(path: string, options?: { signal?: AbortSignal }): Promise<Readable> {
    const rel = normalizeRelativePath(path);
    abortIfNeeded(options?.signal);
    const stat = await this.statRaw(rel);
    if (!stat) throw new SyncError('NOT_FOUND', `"${rel}" does not exist`, { path: rel });
    if (stat.type === 'directory') throw new SyncError('CONFLICT', `"${rel}" is a folder`, { path: rel });
    const response = await this.run(
      'read',
      rel,
      () => this.client.customRequest(remote(rel), { method: 'GET', signal: options?.signal }),
      options?.signal,
    );
    const body = (response as unknown as { body: unknown }).body;
    const mapped = new Transform({
      transform(chunk, _encoding, callback) {
        callback(null, chunk);
      },
    });
    if (body === null || body === undefined) {
      mapped.end();
      return mapped;
    }
    const stream = body instanceof Readable ? body : Readable.fromWeb(body as never);
    stream.on('error', (error) => mapped.destroy(mapError(error, 'read', rel)));
    return stream.pipe(mapped);
  }

  /** MKCOL for each missing folder of `rel` (itself included); a file in the way is a CONFLICT. */
  private async mkdirs(rel: string): Promise<void> {
    if (this.knownDirs.has(rel)) return;
    await this.createFolders(rel);
    this.knownDirs.add(rel);
  }

  private async createFolders(rel: string): Promise<void> {
    if (rel === '') {
      // The root: create it (and its parents on the server) when missing.
      const root = await this.statRaw('');
      if (root?.type === 'directory') return;
      if (root) throw new SyncError('CONFLICT', `${this.description} is a file, not a folder`);
      // MKCOL on the root URL itself; its parent collection must exist already.
      try {
        await this.run('create the root folder', '', () =>
          this.client.customRequest('/', { method: 'MKCOL' }),
        );
      } catch (error) {
        if (error instanceof SyncError && error.code === 'CONFLICT' && !(await this.statRaw(''))) {
          throw new SyncError(
            'NOT_FOUND',
            `${this.description}: the folder that should hold the root does not exist`,
            {
              cause: error,
            },
          );
        }
        if (!(error instanceof SyncError && error.code === 'CONFLICT')) throw error;
      }
      return;
    }
    const existing = await this.statRaw(rel);
    if (existing) {
      if (existing.type === 'directory') return;
      throw new SyncError('CONFLICT', `cannot create folder "${rel}": a file is there`, { path: rel });
    }
    await this.mkdirs(parentPath(rel));
    try {
      await this.run('create folder', rel, () => this.client.createDirectory(remote(rel)));
    } catch (error) {
      // Created meanwhile by a concurrent operation: fine.
      const now = await this.statRaw(rel);
      if (now?.type === 'directory') return;
      if (now)
        throw new SyncError('CONFLICT', `cannot create folder "${rel}": a file is there`, { path: rel });
      throw error;
    }
  }

  async write(
    path: string,
    data: Readable | AsyncIterable<Uint8Array>,
    options: WriteOptions = {},
  ): Promise<Entry> {
    const rel = normalizeRelativePath(path);
    const existing = await this.statRaw(rel);
    if (existing?.type === 'directory')
      throw new SyncError('CONFLICT', `"${rel}" is a folder`, { path: rel });
    await this.mkdirs(parentPath(rel));
    const temp = tempPathFor(rel);
    const signal = options.signal;
    const counter = new HashingPassThrough([], { signal });
    const source = data instanceof Readable ? data : Readable.from(data);
    let sourceError: unknown;
    source.on('error', (error) => {
      sourceError = error;
      counter.destroy(error);
    });
    source.pipe(counter);
    const headers: Record<string, string> = {};
    if (this.mtimeMode === 'x-oc-mtime' && options.mtime !== undefined) {
      headers['X-OC-Mtime'] = String(Math.floor(options.mtime / 1000));
    }
    // After an aborted upload some servers still store the partial body a moment later, so
    // make sure the temporary file is gone for a little while, not just once.
    const removeTemp = async (): Promise<void> => {
      for (let attempt = 0; attempt < 6; attempt++) {
        await this.client.deleteFile(remote(temp)).catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 50 * (attempt + 1)));
        const left = await this.client.exists(remote(temp)).catch(() => true);
        if (!left && attempt >= 1) return;
      }
    };
    // The body can be sent once, so the upload itself is not retried.
    try {
      await this.client.putFileContents(remote(temp), counter, { overwrite: true, headers, signal });
    } catch (error) {
      this.knownDirs.clear();
      await removeTemp();
      throw mapError(sourceError ?? error, 'write', rel);
    }
    if (sourceError !== undefined) {
      await removeTemp();
      throw mapError(sourceError, 'write', rel);
    }
    if (options.size !== undefined && counter.bytes !== options.size) {
      await removeTemp();
      throw new SyncError(
        'CHANGED_DURING_TRANSFER',
        `"${rel}": expected ${options.size} bytes, received ${counter.bytes}`,
        {
          path: rel,
        },
      );
    }
    try {
      await this.run('move into place', rel, () =>
        this.client.moveFile(remote(temp), remote(rel), { overwrite: true }),
      );
    } catch (error) {
      await removeTemp();
      throw error;
    }
    const stat = await this.statRaw(rel);
    if (!stat)
      throw new SyncError('TRANSIENT', `"${rel}" vanished right after it was written`, { path: rel });
    return this.toEntry(rel, stat);
  }

  async delete(path: string): Promise<void> {
    const rel = normalizeRelativePath(path);
    const stat = await this.statRaw(rel);
    if (!stat) return;
    // DELETE on a collection removes everything below it; only empty folders may go.
    if (stat.type === 'directory' && (await this.children(rel)).length > 0) {
      throw new SyncError('CONFLICT', `folder "${rel}" is not empty`, { path: rel });
    }
    if (stat.type === 'directory') this.knownDirs.clear();
    try {
      await this.run('delete', rel, () => this.client.deleteFile(remote(rel)));
    } catch (error) {
      if (error instanceof SyncError && error.code === 'NOT_FOUND') return;
      throw error;
    }
  }

  async rename(from: string, to: string): Promise<void> {
    const source = normalizeRelativePath(from);
    const target = normalizeRelativePath(to);
    if (source === target) return;
    if (target.startsWith(`${source}/`)) {
      throw new SyncError('CONFLICT', `cannot move "${source}" into itself`, { path: target });
    }
    if (!(await this.statRaw(source))) {
      throw new SyncError('NOT_FOUND', `"${source}" does not exist`, { path: source });
    }
    if (await this.statRaw(target)) {
      throw new SyncError('CONFLICT', `cannot rename "${source}": "${target}" already exists`, {
        path: target,
      });
    }
    await this.mkdirs(parentPath(target));
    this.knownDirs.clear();
    await this.run('rename', source, () =>
      this.client.moveFile(remote(source), remote(target), { overwrite: false }),
    );
  }

  async copy(from: string, to: string): Promise<void> {
    const source = normalizeRelativePath(from);
    const target = normalizeRelativePath(to);
    if (!(await this.statRaw(source))) {
      throw new SyncError('NOT_FOUND', `"${source}" does not exist`, { path: source });
    }
    await this.mkdirs(parentPath(target));
    await this.run('copy', source, () => this.client.copyFile(remote(source), remote(target)));
  }

  async mkdir(path: string): Promise<void> {
    await this.mkdirs(normalizeRelativePath(path));
  }

  async hash(path: string, algorithm: HashAlgorithm): Promise<string> {
    const rel = normalizeRelativePath(path);
    if (algorithm !== 'etag') {
      throw new SyncError('HASH_UNAVAILABLE', `${this.description} does not offer "${algorithm}" hashes`, {
        path: rel,
      });
    }
    const entry = await this.stat(rel);
    if (!entry) throw new SyncError('NOT_FOUND', `"${rel}" does not exist`, { path: rel });
    if (!entry.hash)
      throw new SyncError('HASH_UNAVAILABLE', `the server gives no ETag for "${rel}"`, { path: rel });
    return entry.hash;
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
    for (const agent of this.agents) agent.destroy();
  }
}
