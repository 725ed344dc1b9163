/**
 * The folder worker: a thread of a local storage's pool (`folder-pool.ts`) that reads and
 * stats folders and copies small files, so the storage's own thread only builds entries.
 *
 * For each listing it walks the tree depth first, in the order the walk on the other side
 * takes it (names sorted), reading each folder (names, and after `lstat` each child's type
 * and `[size, mtimeMs, ino, ctimeMs]`, and the folder's part of the tree digest) while no more than
 * `readAhead` entries wait to be taken. Folders asked for go first; skipped folders, and
 * the engine's own folders, are not read ahead. A `compare` request walks a whole tree at
 * once against recorded folder digests and answers whether it is unchanged.
 */
import {
  closeSync,
  constants,
  fdatasync,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readSync,
  type Stats,
} from 'node:fs';
import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';
import { ENGINE_DIR, isTempName, STATE_DIR_NAME } from '@syncengine/engine/paths';
import { addItemDigest, formatDigest } from '@syncengine/engine/tree-digest';
import { isLinkClash, writeFileAtomicSync } from './atomic-write.js';
import {
  CHILD_NUMBERS,
  ChildType,
  COPY_NUMBERS,
  type CopiedFiles,
  type CopyBatch,
  CopyStatus,
  describeFsError,
  type FolderChanges,
  type FolderReply,
  type FolderRequest,
} from './folder-protocol.js';

/** The engine's own folders: never read ahead, and left out of every digest. */
const INTERNAL_FOLDERS = [ENGINE_DIR, STATE_DIR_NAME];

interface Walk {
  root: string;
  /** Folders to read ahead, the next one last. */
  stack: string[];
  /** Read, asked for or skipped: never read (again) ahead. */
  done: Set<string>;
  skipped: Set<string>;
  waiting: number;
  readAhead: number;
}

interface Folder {
  names: string[];
  types: Uint8Array<ArrayBuffer>;
  numbers: Float64Array<ArrayBuffer>;
  isSortedNfc: boolean;
  /** Subfolders to walk, in name order. */
  folders: string[];
}

const port = parentPort;
if (!port) throw new Error('the folder worker runs on a worker thread');

const walks = new Map<number, Walk>();
const asked: { listing: number; path: string }[] = [];
let outbox: FolderReply[] = [];
let moved: ArrayBuffer[] = [];
let isScheduled = false;

const isSkipped = (skipped: Set<string>, path: string) => {
  for (let at = path.length; at > 0; at = path.lastIndexOf('/', at - 1)) {
    if (skipped.has(path.slice(0, at))) return true;
  }
  return false;
};

/** Reads a folder and `lstat`s its children; null when a name is not UTF-8; throws the `fs` error. */
function statFolder(path: string): Folder | null {
  const names = readdirSync(path);
  if (names.some((name) => name.includes('\uFFFD'))) return null;
  // In the order the walk takes them, checked for NFC: work the walk's thread is spared.
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const isSortedNfc = names.every((name) => name === name.normalize('NFC'));
  const prefix = path.endsWith('/') ? path : `${path}/`;
  const types = new Uint8Array(names.length);
  const numbers = new Float64Array(names.length * CHILD_NUMBERS);
  const folders: string[] = [];
  for (let index = 0; index < names.length; index++) {
    let stats: Stats | undefined;
    try {
      stats = lstatSync(prefix + names[index], { throwIfNoEntry: false });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw error;
    }
    if (!stats) continue; // Gone.
    const isDir = stats.isDirectory();
    types[index] = stats.isFile()
      ? ChildType.File
      : isDir
        ? ChildType.Folder
        : stats.isSymbolicLink()
          ? ChildType.Symlink
          : ChildType.Special;
    const at = index * CHILD_NUMBERS;
    numbers[at] = stats.size;
    numbers[at + 1] = stats.mtimeMs;
    numbers[at + 2] = stats.ino;
    numbers[at + 3] = stats.ctimeMs;
    if (isDir && !INTERNAL_FOLDERS.includes(names[index]!)) folders.push(prefix + names[index]);
  }
  return { names, types, numbers, isSortedNfc, folders };
}

/** `path` relative to `root` (`''` for the root itself). */
const relativeTo = (root: string, path: string) =>
  path === root ? '' : path.slice(root.endsWith('/') ? root.length : root.length + 1);

/** The folder's part of the tree digest, without the engine's own names; none unless all names are NFC. */
function digestOf(root: string, path: string, folder: Folder): number[] | undefined {
  if (!folder.isSortedNfc) return undefined;
  const rel = relativeTo(root, path);
  const relPrefix = rel === '' ? '' : `${rel}/`;
  const sums = [0, 0, 0];
  const { names, types, numbers } = folder;
  for (let index = 0; index < names.length; index++) {
    const name = names[index]!;
    const type = types[index]!;
    if (type === ChildType.Gone || INTERNAL_FOLDERS.includes(name) || isTempName(name)) continue;
    const at = index * CHILD_NUMBERS;
    const mtime = Math.round(numbers[at + 1]!);
    const ctime = Math.round(numbers[at + 3]!);
    const id = String(numbers[at + 2]);
    addItemDigest(sums, relPrefix + name, type, numbers[at]!, mtime, ctime, id, 1);
  }
  return sums;
}

/** True for a folder at or below one of the engine's own. */
function isInternal(walk: Walk, path: string): boolean {
  if (path === walk.root) return false;
  return relativeTo(walk.root, path)
    .split('/')
    .some((segment) => INTERNAL_FOLDERS.includes(segment));
}

function readFolder(listing: number, walk: Walk, path: string): void {
  walk.done.add(path);
  let folder: Folder | null;
  try {
    folder = statFolder(path);
  } catch (error) {
    walk.waiting += 1;
    outbox.push({ listing, path, error: describeFsError(error) });
    return;
  }
  if (!folder) {
    walk.waiting += 1;
    outbox.push({ listing, path, notUtf8: true });
    return;
  }
  const { names, types, numbers, isSortedNfc, folders } = folder;
  const digest = digestOf(walk.root, path, folder);
  walk.waiting += Math.max(1, names.length);
  outbox.push({ listing, path, names, types, numbers, isSortedNfc, digest });
  moved.push(types.buffer, numbers.buffer);
  // Inside the engine's own folders (read when asked, as for the versions area) a listing
  // takes only what it asks for: nothing there is read ahead.
  if (isInternal(walk, path)) return;
  // The walk takes subfolders in name order: the first goes on top.
  for (let index = folders.length - 1; index >= 0; index--) walk.stack.push(folders[index]!);
}

/**
 * Whether every folder of the tree below `root` (but those `skipped`) has the digest
 * `expected` holds for it (by path relative to `root`), no folder is missing and none holds
 * a temporary file: stops at the first that differs. Null where a folder's digest cannot be
 * made, or when `stop` was set.
 */
function isUnchanged(
  root: string,
  skipped: Set<string>,
  expected: Record<string, string>,
  stop: Int32Array,
): boolean | null {
  let folders = 0;
  const stack = [root];
  for (let path = stack.pop(); path !== undefined; path = stack.pop()) {
    // The caller knows the answer already (the other side of the pair differs).
    if (Atomics.load(stop, 0) !== 0) return null;
    const folder = statFolder(path);
    const digest = folder && digestOf(root, path, folder);
    if (!folder || !digest) return null;
    const rel = relativeTo(root, path);
    const recorded = Object.hasOwn(expected, rel) ? expected[rel] : undefined;
    if (recorded !== formatDigest(digest)) return false;
    // A temporary name left by an interrupted write: a run must find and remove it.
    const { names, types } = folder;
    for (let index = 0; index < names.length; index++) {
      if (types[index] === ChildType.File && isTempName(names[index]!)) return false;
    }
    folders += 1;
    for (const below of folder.folders) if (!isSkipped(skipped, below)) stack.push(below);
  }
  return folders === Object.keys(expected).length;
}

/**
 * The folders of the tree below `root` (but those `skipped`) that differ from the digests
 * `expected` holds (by path relative to `root`): `changed`, whose own digest differs (their
 * direct items changed); `replaced`, folders with no recorded digest (made since: everything
 * below them is new) and recorded folders no longer there (gone, or no longer folders).
 * Null where a folder's digest cannot be made, a folder holds a temporary file, more than
 * `limit` folders differ, or `stop` was set.
 */
function changedFolders(
  root: string,
  skipped: Set<string>,
  expected: Record<string, string>,
  limit: number,
  stop: Int32Array,
): FolderChanges | null {
  const changed: string[] = [];
  const replaced: string[] = [];
  const seen = new Set<string>();
  const stack = [root];
  for (let path = stack.pop(); path !== undefined; path = stack.pop()) {
    if (Atomics.load(stop, 0) !== 0) return null;
    const folder = statFolder(path);
    const digest = folder && digestOf(root, path, folder);
    if (!folder || !digest) return null;
    const { names, types } = folder;
    for (let index = 0; index < names.length; index++) {
      if (types[index] === ChildType.File && isTempName(names[index]!)) return null;
    }
    const rel = relativeTo(root, path);
    if (!Object.hasOwn(expected, rel)) {
      // Made since the digests were recorded: nothing below it is recorded either.
      replaced.push(rel);
      if (changed.length + replaced.length > limit) return null;
      continue;
    }
    seen.add(rel);
    if (expected[rel] !== formatDigest(digest)) {
      changed.push(rel);
      if (changed.length + replaced.length > limit) return null;
    }
    for (const below of folder.folders) if (!isSkipped(skipped, below)) stack.push(below);
  }
  for (const rel of Object.keys(expected)) {
    if (seen.has(rel)) continue;
    replaced.push(rel);
    if (changed.length + replaced.length > limit) return null;
  }
  return { changed, replaced };
}

/** Descriptors of files copied here, open until a `flush` has made them durable. */
let unflushed: number[] = [];

/** The XXH3 hasher, once loaded (false: it could not be). */
let xxh3: { xxh64(data: Uint8Array): bigint } | false | undefined;

function hasherFrom(module: string | null): { xxh64(data: Uint8Array): bigint } | false {
  if (module === null) return false;
  if (xxh3 === undefined) {
    try {
      xxh3 = createRequire(module)(module).xxh3;
    } catch {
      xxh3 = false;
    }
  }
  return xxh3 ?? false;
}

/**
 * Copies small files, each as a local write with `ifAbsent` does it: read whole (one byte
 * past the planned size, then `fstat`), checked against the plan, and written atomically,
 * never over anything (`writeFileAtomicSync`). The written file's descriptor stays open for
 * `flush` where the batch asks for it.
 */
function copyFiles({ fromRoot, toRoot, copies, bytes, keepOpen, xxh3Module }: CopyBatch): CopiedFiles {
  const hasher = hasherFrom(xxh3Module);
  const hashes: string[] | null = hasher ? [] : null;
  const status = new Uint8Array(copies.length);
  const numbers = new Float64Array(copies.length * COPY_NUMBERS);
  const offsets = new Float64Array(copies.length);
  const data = new Uint8Array(bytes + 1);
  const errors: CopiedFiles['errors'] = {};
  const fromPrefix = fromRoot.endsWith('/') ? fromRoot : `${fromRoot}/`;
  const toPrefix = toRoot.endsWith('/') ? toRoot : `${toRoot}/`;
  let offset = 0;
  for (let index = 0; index < copies.length; index++) {
    const [fromRel, toRel, size, mtime] = copies[index]!;
    try {
      if (offset + size >= data.length) throw new Error('the copy batch is larger than its bytes');
      const fd = openSync(
        fromPrefix + fromRel,
        constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
      );
      let read: number;
      let stats: Stats;
      try {
        read = readSync(fd, data, offset, Math.min(size + 1, data.length - offset), 0);
        stats = fstatSync(fd);
      } finally {
        closeSync(fd);
      }
      const isPlanned = stats.size === size && Math.abs(Math.round(stats.mtimeMs) - mtime) < 1;
      if (!stats.isFile() || read !== size || !isPlanned) {
        status[index] = CopyStatus.Changed;
        continue;
      }
      const bytesRead = data.subarray(offset, offset + size);
      let written: ReturnType<typeof writeFileAtomicSync>;
      try {
        written = writeFileAtomicSync(toPrefix + toRel, [bytesRead], { exclusive: true, mtime, keepOpen });
      } catch (error) {
        if (!isLinkClash(error)) throw error;
        status[index] = CopyStatus.Appeared;
        continue;
      }
      if (written.fd !== null) unflushed.push(written.fd);
      if (hashes && hasher) hashes[index] = hasher.xxh64(bytesRead).toString(16).padStart(16, '0');
      const at = index * COPY_NUMBERS;
      numbers[at] = size;
      numbers[at + 1] = stats.mtimeMs;
      numbers[at + 2] = stats.ino;
      numbers[at + 3] = stats.ctimeMs;
      numbers[at + 4] = written.stats.size;
      numbers[at + 5] = written.stats.mtimeMs;
      numbers[at + 6] = written.stats.ino;
      numbers[at + 7] = written.stats.ctimeMs;
      offsets[index] = offset;
      // Hashed here: the next copy may take the same bytes.
      if (!hashes) offset += size;
    } catch (error) {
      status[index] = CopyStatus.Failed;
      errors[index] = describeFsError(error);
    }
  }
  return { status, numbers, hashes, offsets, data: hashes ? null : data, errors };
}

/** fdatasyncs and closes the descriptors of every file copied here since the last flush. */
async function flushCopies(): Promise<void> {
  const fds = unflushed;
  unflushed = [];
  let failure: unknown;
  await Promise.all(
    fds.map(
      (fd) =>
        new Promise<void>((resolve) =>
          fdatasync(fd, (error) => {
            failure ??= error ?? undefined;
            closeSync(fd);
            resolve();
          }),
        ),
    ),
  );
  if (failure) throw failure;
}

function work(): void {
  isScheduled = false;
  const started = Date.now();
  // A few milliseconds at a time, so that requests and skips are seen in between.
  while (Date.now() - started < 4) {
    const request = asked.shift();
    if (request) {
      const walk = walks.get(request.listing);
      if (walk) readFolder(request.listing, walk, request.path);
      continue;
    }
    let didRead = false;
    for (const [listing, walk] of walks) {
      if (walk.waiting >= walk.readAhead) continue;
      const path = walk.stack.pop();
      if (path === undefined) continue;
      if (!walk.done.has(path) && !isSkipped(walk.skipped, path)) readFolder(listing, walk, path);
      didRead = true;
    }
    if (!didRead) break;
  }
  if (outbox.length > 0) {
    post(outbox, moved);
    outbox = [];
    moved = [];
  }
  schedule();
}

function schedule(): void {
  const hasWork =
    asked.length > 0 ||
    [...walks.values()].some((walk) => walk.waiting < walk.readAhead && walk.stack.length > 0);
  if (hasWork && !isScheduled) {
    isScheduled = true;
    setImmediate(work);
  }
}

function post(replies: FolderReply[], transfer: ArrayBuffer[] = []): void {
  port!.postMessage(replies, transfer);
}

port.on('message', (message: FolderRequest) => {
  switch (message.op) {
    case 'copy': {
      const copied = copyFiles(message.batch);
      const moving = [copied.status.buffer, copied.numbers.buffer, copied.offsets.buffer] as ArrayBuffer[];
      if (copied.data) moving.push(copied.data.buffer as ArrayBuffer);
      post([{ listing: message.listing, path: '', copied }], moving);
      return;
    }
    case 'flush': {
      const { listing } = message;
      flushCopies().then(
        () => post([{ listing, path: '', flushed: true }]),
        (error: unknown) => post([{ listing, path: '', error: describeFsError(error) }]),
      );
      return;
    }
    case 'compare': {
      const { listing, root, skipped, expected, limit, stop } = message;
      try {
        const skippedSet = new Set(skipped);
        if (limit === undefined) {
          const unchanged = isUnchanged(root, skippedSet, expected, new Int32Array(stop));
          post([{ listing, path: root, unchanged }]);
        } else {
          const changes = changedFolders(root, skippedSet, expected, limit, new Int32Array(stop));
          post([{ listing, path: root, changes }]);
        }
      } catch (error) {
        post([{ listing, path: root, error: describeFsError(error) }]);
      }
      return;
    }
    case 'open':
      walks.set(message.listing, {
        root: message.root,
        stack: [message.root],
        done: new Set(),
        skipped: new Set(),
        waiting: 0,
        readAhead: message.readAhead,
      });
      break;
    default: {
      const walk = walks.get(message.listing);
      if (!walk) return;
      if (message.op === 'read') {
        // Read ahead already (on its way), or read now; `again` when the walk dropped a reply.
        if (message.again || !walk.done.has(message.path)) {
          asked.push({ listing: message.listing, path: message.path });
        }
      } else if (message.op === 'skip') walk.skipped.add(message.path);
      else if (message.op === 'consumed') walk.waiting -= message.entries;
      else walks.delete(message.listing);
    }
  }
  schedule();
});
