import type { SyncEvent } from '../events.js';
import type { Entry, Side, Tree } from '../model.js';
import { isEngineInternalPath, isTempFilePath, normalizeRelativePath } from '../paths.js';
import { hasChunkedListing, type ListingDigest, type Storage } from '../storage.js';

const PROGRESS_EVERY_MS = 250;
const CLOCK_EVERY_ENTRIES = 64;

/** Wording of the skip reasons backends report (`ListOptions.onSkip`). */
const SKIP_REASONS: Record<string, string> = {
  symlink: 'a symbolic link, which is not followed',
  'special-file': 'not a regular file or folder (a socket, FIFO or device)',
  'normalization-collision': 'another name in its folder normalises to the same path',
  'invalid-name': 'its name cannot be represented',
  unreadable: 'a folder that cannot be read (permission denied); left alone on both sides this run',
};

export interface ScanOptions {
  side: Side;
  storage: Storage;
  /** Ignore rules; the engine's own paths are always left out on top of them. */
  include?: (path: string, isDir: boolean) => boolean;
  /**
   * Awaited for each folder listed, before anything below it is listed (backends list a
   * folder before its contents and ask `include` about its children only afterwards): where
   * nested ignore files are read as the walk meets their folders.
   */
  enterDirectory?: (path: string) => Promise<void>;
  /**
   * This side's last-known records, for the listing (`ListOptions.known`): a backend may hand
   * an unchanged file its record itself, hash and all, so it needs neither a new entry nor
   * a later `inheritHashes`. A promise lets the listing start while the records load.
   */
  known?: Tree | Promise<Tree | undefined>;
  /** The listing's tree digest, where the backend makes one (`ListOptions.onDigest`). */
  onDigest?: (digest: ListingDigest) => void;
  /**
   * Told about each temporary file of an atomic write that the listing met (never listed as
   * an entry): no write of the pair is under way while it scans, so these are what an
   * interrupted run left behind.
   */
  onLeftover?: (path: string) => void;
  /** A folder the backend could not list (`unreadable`): its contents are unknown, not gone. */
  onUnreadable?: (path: string) => void;
  signal?: AbortSignal;
  emit: (event: SyncEvent) => void;
  warn: (message: string, path?: string) => void;
}

/**
 * Lists one side into a tree, leaving out ignored and engine-internal paths and rejecting
 * (with a warning) paths a backend should never have reported: absolute, `..`, empty.
 */
export async function scanSide(options: ScanOptions): Promise<Tree> {
  const { side, storage, emit } = options;
  emit({ type: 'scan_start', side });
  const tree: Tree = new Map();
  let lastProgress = Date.now();
  const isIncluded = (path: string, isDir: boolean) =>
    !isEngineInternalPath(path) && (options.include?.(path, isDir) ?? true);
  // Backends ask about every file they meet: temporary names are found on the way.
  const include = (path: string, isDir: boolean) => {
    if (!isEngineInternalPath(path)) return options.include?.(path, isDir) ?? true;
    if (!isDir && options.onLeftover && isTempFilePath(path)) options.onLeftover(path);
    return false;
  };
  const onSkip = (path: string, reason: string) => {
    if (reason === 'unreadable') options.onUnreadable?.(path);
    if (!isIncluded(path, reason === 'unreadable')) return;
    options.warn(
      `skipped ${JSON.stringify(path)} on the ${side} side: ${SKIP_REASONS[reason] ?? reason}`,
      path,
    );
  };
  const listOptions = {
    include,
    onSkip,
    known: options.known,
    onDigest: options.onDigest,
    signal: options.signal,
  };
  const chunks = hasChunkedListing(storage)
    ? storage.listChunks(listOptions)
    : oneByOne(storage.list(listOptions));
  for await (const chunk of chunks) {
    for (const entry of chunk) {
      const path = add(entry);
      if (path !== null && entry.isDir && options.enterDirectory) await options.enterDirectory(path);
    }
  }
  emit({ type: 'scan_complete', side, files: tree.size });
  return tree;

  /** Puts a listed entry in the tree; its normalised path, or null when it is left out. */
  function add(entry: Entry): string | null {
    let path: string;
    try {
      path = normalizeRelativePath(entry.path);
    } catch (error) {
      options.warn(
        `${storage.description}: skipped ${error instanceof Error ? error.message : String(error)}`,
      );
      return null;
    }
    if (isEngineInternalPath(path)) return null;
    tree.set(path, path === entry.path ? entry : { ...entry, path });
    // The clock is read every so many entries only: a scan lists hundreds of thousands.
    if (tree.size % CLOCK_EVERY_ENTRIES === 0) {
      const now = Date.now();
      if (now - lastProgress >= PROGRESS_EVERY_MS) {
        lastProgress = now;
        emit({ type: 'scan_progress', side, files: tree.size });
      }
    }
    return path;
  }
}

async function* oneByOne(entries: AsyncIterable<Entry>): AsyncIterable<Entry[]> {
  for await (const entry of entries) yield [entry];
}
