import { SyncError } from '../../src/errors.js';
import { isSameOrBelow } from '../../src/paths.js';
import {
  type BatchCopies,
  hasBatchCopies,
  hasChunkedListing,
  hasSmallReads,
  type ListOptions,
  type Storage,
} from '../../src/storage.js';

/** The storage behind each wrapper: a backend that copies from its own kind needs the real one. */
const wrapped = new WeakMap<Storage, Storage>();

/**
 * Wraps a storage so that the folders in `folders` (a live set: add and remove as a test
 * goes) cannot be read, as a local disk reports a folder without read permission: the
 * folder's own entry is still listed, the listing tells `onSkip(path, 'unreadable')`, nothing
 * below it is listed, and reading a file below it fails with PERMISSION. Listings are never
 * vouched unchanged (`isUnchangedSince`), as a real disk's digest walk would stop there.
 * Wrap both sides of a pair, so a backend copying from its own kind gets the real storage.
 */
export function withUnreadableFolders(
  storage: Storage,
  folders: Set<string>,
  /** Files that cannot be read either, wherever they are. */
  files: Set<string> = new Set(),
): Storage {
  const isBelow = (path: string) =>
    [...folders].some((folder) => path !== folder && isSameOrBelow(path, folder));
  const wrap = (options: ListOptions = {}): ListOptions => ({
    ...options,
    include: (path, isDir) => {
      if (isBelow(path)) return false;
      const isIncluded = options.include?.(path, isDir) ?? true;
      if (isIncluded && isDir && folders.has(path)) options.onSkip?.(path, 'unreadable');
      return isIncluded;
    },
  });
  const refuse = (path: string) => {
    if (isBelow(path) || files.has(path))
      throw new SyncError('PERMISSION', `permission denied: "${path}"`, { path });
  };
  const proxy = new Proxy(storage, {
    get(target, property) {
      switch (property) {
        case 'copyInBatch':
          if (!hasBatchCopies(target)) return undefined;
          return (...[source, ...rest]: Parameters<BatchCopies['copyInBatch']>) =>
            target.copyInBatch(wrapped.get(source) ?? source, ...rest);
        case 'list':
          return (options?: ListOptions) => target.list(wrap(options));
        case 'listChunks':
          if (!hasChunkedListing(target)) return undefined;
          return (options?: ListOptions) => target.listChunks(wrap(options));
        case 'isUnchangedSince':
          return undefined;
        case 'read':
          return (path: string, ...rest: unknown[]) => {
            refuse(path);
            return (target.read as (...args: unknown[]) => unknown)(path, ...rest);
          };
        case 'readSmall':
          if (!hasSmallReads(target)) return undefined;
          return (path: string, maxBytes: number, options?: { signal?: AbortSignal }) => {
            refuse(path);
            return target.readSmall(path, maxBytes, options);
          };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  wrapped.set(proxy, storage);
  return proxy;
}
