import { Readable } from 'node:stream';
import { SyncError } from '../errors.js';
import { canHashLocally, createHasher, LOCAL_HASH_ALGORITHMS } from '../hash.js';
import type { Entry, HashAlgorithm } from '../model.js';
import { comparePaths, isSameOrBelow, normalizeRelativePath, parentPath } from '../paths.js';
import type { ListOptions, Storage, StorageCapabilities, WriteOptions } from '../storage.js';
import { abortIfNeeded } from './util.js';

interface MemoryNode {
  /** The path as stored (original case). */
  path: string;
  isDir: boolean;
  data: Buffer;
  mtime: number;
  id: string;
}

export interface MemoryStorageOptions {
  /** Shown in messages; defaults to `memory`. */
  description?: string;
  /** Overrides of the reported capabilities (e.g. a case-insensitive side, coarser mtimes). */
  capabilities?: Partial<StorageCapabilities>;
  /** Time source for writes without an explicit mtime; defaults to `Date.now`. */
  now?: () => number;
}

/**
 * An in-memory `Storage` with the semantics of a local disk: real directories, inode-like
 * stable ids, exact mtimes. For tests; `capabilities.caseSensitive: false` gives a
 * case-insensitive (case-preserving) tree.
 */
export class MemoryStorage implements Storage {
  readonly kind = 'memory';
  readonly description: string;
  readonly capabilities: StorageCapabilities;
  private readonly nodes = new Map<string, MemoryNode>();
  private nextId = 1;
  private readonly now: () => number;

  constructor(options: MemoryStorageOptions = {}) {
    this.description = options.description ?? 'memory';
    this.now = options.now ?? Date.now;
    this.capabilities = {
      hashAlgorithms: [...LOCAL_HASH_ALGORITHMS],
      hasListingHashes: false,
      mtimePrecisionMs: 1,
      canSetMtime: true,
      caseSensitive: true,
      serverSideMove: true,
      serverSideCopy: false,
      stableIds: true,
      hasDirectories: true,
      walksFolders: true,
      exclusiveWrites: true,
      ...options.capabilities,
    };
  }

  private key(path: string): string {
    return this.capabilities.caseSensitive ? path : path.toLowerCase();
  }

  private node(path: string): MemoryNode | undefined {
    return this.nodes.get(this.key(path));
  }

  private toEntry(node: MemoryNode): Entry {
    return {
      path: node.path,
      size: node.isDir ? 0 : node.data.length,
      mtime: node.mtime,
      isDir: node.isDir,
      id: node.id,
    };
  }

  /** Creates missing parent directories of `path`; a file in the way is a CONFLICT. */
  private ensureParents(path: string, mtime: number): void {
    const parent = parentPath(path);
    if (parent === '') return;
    const existing = this.node(parent);
    if (existing) {
      if (!existing.isDir) {
        throw new SyncError('CONFLICT', `cannot create "${path}": "${existing.path}" is a file`, { path });
      }
      return;
    }
    this.ensureParents(parent, mtime);
    this.nodes.set(this.key(parent), {
      path: parent,
      isDir: true,
      data: Buffer.alloc(0),
      mtime,
      id: String(this.nextId++),
    });
  }

  async *list(options: ListOptions = {}): AsyncIterable<Entry> {
    const nodes = [...this.nodes.values()].sort((a, b) => comparePaths(a.path, b.path));
    let skipBelow: string | null = null;
    for (const node of nodes) {
      abortIfNeeded(options.signal);
      if (skipBelow !== null && isSameOrBelow(node.path, skipBelow)) continue;
      skipBelow = null;
      if (options.include && !options.include(node.path, node.isDir)) {
        if (node.isDir) skipBelow = node.path;
        continue;
      }
      // The node may have been removed while the consumer held the previous entry.
      const current = this.node(node.path);
      if (current !== node) continue;
      yield this.toEntry(node);
    }
  }

  async stat(path: string): Promise<Entry | null> {
    const node = this.node(normalizeRelativePath(path));
    return node ? this.toEntry(node) : null;
  }

  private file(path: string): MemoryNode {
    const node = this.node(path);
    if (!node) throw new SyncError('NOT_FOUND', `"${path}" does not exist`, { path });
    if (node.isDir) throw new SyncError('CONFLICT', `"${path}" is a directory`, { path });
    return node;
  }

  async read(path: string, options?: { signal?: AbortSignal }): Promise<Readable> {
    const rel = normalizeRelativePath(path);
    abortIfNeeded(options?.signal);
    const data = this.file(rel).data;
    return Readable.from(data.length === 0 ? [] : [Buffer.from(data)]);
  }

  async write(
    path: string,
    data: Readable | AsyncIterable<Uint8Array>,
    options: WriteOptions = {},
  ): Promise<Entry> {
    const rel = normalizeRelativePath(path);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of data) {
      abortIfNeeded(options.signal);
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk);
      chunks.push(buffer);
      size += buffer.length;
    }
    if (options.size !== undefined && size !== options.size) {
      throw new SyncError(
        'CHANGED_DURING_TRANSFER',
        `"${rel}": expected ${options.size} bytes, received ${size}`,
        { path: rel },
      );
    }
    const existing = this.node(rel);
    if (existing && options.ifAbsent) {
      throw new SyncError('CHANGED_DURING_TRANSFER', `"${rel}" appeared while it was written`, { path: rel });
    }
    if (existing?.isDir) throw new SyncError('CONFLICT', `"${rel}" is a directory`, { path: rel });
    const mtime = options.mtime ?? this.now();
    this.ensureParents(rel, mtime);
    const node: MemoryNode = {
      path: existing?.path ?? rel,
      isDir: false,
      data: Buffer.concat(chunks, size),
      mtime,
      // Like a rename of a temp file into place: the id changes on every write.
      id: String(this.nextId++),
    };
    this.nodes.set(this.key(rel), node);
    return this.toEntry(node);
  }

  async delete(path: string): Promise<void> {
    const rel = normalizeRelativePath(path);
    const node = this.node(rel);
    if (!node) return;
    if (node.isDir && this.hasChildren(node.path)) {
      throw new SyncError('CONFLICT', `directory "${rel}" is not empty`, { path: rel });
    }
    this.nodes.delete(this.key(rel));
  }

  private hasChildren(dir: string): boolean {
    const prefix = this.key(`${dir}/`);
    for (const key of this.nodes.keys()) if (key.startsWith(prefix)) return true;
    return false;
  }

  async rename(from: string, to: string): Promise<void> {
    const source = normalizeRelativePath(from);
    const target = normalizeRelativePath(to);
    const node = this.node(source);
    if (!node) throw new SyncError('NOT_FOUND', `"${source}" does not exist`, { path: source });
    const sameNode = this.key(source) === this.key(target);
    if (!sameNode && this.node(target)) {
      throw new SyncError('CONFLICT', `cannot rename "${source}": "${target}" already exists`, {
        path: target,
      });
    }
    if (!sameNode && isSameOrBelow(this.key(target), this.key(source))) {
      throw new SyncError('CONFLICT', `cannot move "${source}" into itself`, { path: target });
    }
    this.ensureParents(target, this.now());
    const moved: MemoryNode[] = [node];
    if (node.isDir) {
      const prefix = this.key(`${node.path}/`);
      for (const [key, child] of this.nodes) if (key.startsWith(prefix)) moved.push(child);
    }
    for (const child of moved) this.nodes.delete(this.key(child.path));
    const oldLength = node.path.length;
    for (const child of moved) {
      child.path = target + child.path.slice(oldLength);
      this.nodes.set(this.key(child.path), child);
    }
  }

  async mkdir(path: string): Promise<void> {
    const rel = normalizeRelativePath(path);
    const existing = this.node(rel);
    if (existing) {
      if (existing.isDir) return;
      throw new SyncError('CONFLICT', `cannot create directory "${rel}": a file is there`, { path: rel });
    }
    const mtime = this.now();
    this.ensureParents(rel, mtime);
    this.nodes.set(this.key(rel), {
      path: rel,
      isDir: true,
      data: Buffer.alloc(0),
      mtime,
      id: String(this.nextId++),
    });
  }

  async hash(path: string, algorithm: HashAlgorithm, options?: { signal?: AbortSignal }): Promise<string> {
    const rel = normalizeRelativePath(path);
    abortIfNeeded(options?.signal);
    if (!this.capabilities.hashAlgorithms.includes(algorithm) || !canHashLocally(algorithm)) {
      throw new SyncError('HASH_UNAVAILABLE', `${this.description} does not offer "${algorithm}" hashes`, {
        path: rel,
      });
    }
    const hasher = createHasher(algorithm);
    hasher.update(this.file(rel).data);
    return hasher.digest();
  }

  async setMtime(path: string, mtime: number): Promise<void> {
    const rel = normalizeRelativePath(path);
    const node = this.node(rel);
    if (!node) throw new SyncError('NOT_FOUND', `"${rel}" does not exist`, { path: rel });
    node.mtime = mtime;
  }

  // Synchronous helpers for tests.

  /** Creates or replaces a file (and its parents) at once. */
  put(path: string, content: string | Uint8Array, options: { mtime?: number } = {}): Entry {
    const rel = normalizeRelativePath(path);
    const mtime = options.mtime ?? this.now();
    const existing = this.node(rel);
    if (existing?.isDir) throw new SyncError('CONFLICT', `"${rel}" is a directory`, { path: rel });
    this.ensureParents(rel, mtime);
    const node: MemoryNode = {
      path: existing?.path ?? rel,
      isDir: false,
      data: Buffer.from(content),
      mtime,
      id: String(this.nextId++),
    };
    this.nodes.set(this.key(rel), node);
    return this.toEntry(node);
  }

  /** The file's bytes, or undefined when there is no file at `path`. */
  getBytes(path: string): Buffer | undefined {
    const node = this.node(normalizeRelativePath(path));
    return node && !node.isDir ? Buffer.from(node.data) : undefined;
  }

  /** The file's content as UTF-8, or undefined when there is no file at `path`. */
  getText(path: string): string | undefined {
    return this.getBytes(path)?.toString('utf8');
  }

  /** Every path held (directories and files), depth-first. */
  paths(): string[] {
    return [...this.nodes.values()].map((node) => node.path).sort(comparePaths);
  }
}
