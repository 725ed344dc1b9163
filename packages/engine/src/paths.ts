import { randomBytes } from 'node:crypto';
import { SyncError } from './errors.js';

/**
 * Path rules shared by every backend and by the engine (SPEC §1, §8): relative,
 * `/`-separated, NFC-normalised, never absolute, never containing `..`.
 */

/** The engine's own folder at a location's root: versions area and anything else it keeps there. */
export const ENGINE_DIR = '.syncengine';
/** Where overwritten and deleted files are kept, per side (SPEC §8). */
export const VERSIONS_DIR = `${ENGINE_DIR}/versions`;
/** Folder name of the file-based state store (SPEC §11). */
export const STATE_DIR_NAME = '.sync_state';
/** Name of the per-folder ignore file (SPEC §7). */
export const IGNORE_FILE_NAME = '.syncignore';

/** Marker inside temporary names used by atomic writes: `.<name>.syncengine-tmp-<random>`. */
export const TEMP_MARKER = '.syncengine-tmp-';

/**
 * A temporary name for an atomic write of `path`, in the same directory (so the final
 * rename never crosses a file system boundary). Returns a relative path.
 */
export function tempPathFor(path: string): string {
  return joinPath(parentPath(path), tempNameFor(baseName(path)));
}

/** A temporary file name (no directory) for a file named `name`. */
export function tempNameFor(name: string): string {
  // Keep the name short enough for 255-byte name limits even when `name` is long.
  const stem = Buffer.byteLength(name) > 180 ? name.slice(0, 60) : name;
  tempCounter = (tempCounter + 1) % 0x1_0000_0000;
  return `.${stem}${TEMP_MARKER}${TEMP_PREFIX}${tempCounter.toString(16).padStart(8, '0')}`;
}

/** Random per process, then a counter: unique names without asking for random bytes per file. */
const TEMP_PREFIX = randomBytes(4).toString('hex');
let tempCounter = 0;

/** True for a name (last path segment) produced by `tempNameFor`. */
export function isTempName(name: string): boolean {
  return name.startsWith('.') && name.includes(TEMP_MARKER);
}

/**
 * True for a temporary file of an atomic write (`tempNameFor`) outside the engine's own
 * folders: what a write that never finished (a crash, a kill) leaves behind in a tree.
 */
export function isTempFilePath(path: string): boolean {
  const segments = path.split('/');
  if (!isTempName(segments[segments.length - 1]!)) return false;
  return !segments.some((segment) => segment === ENGINE_DIR || segment === STATE_DIR_NAME);
}

/**
 * True for paths the engine keeps for itself and never syncs: the engine folder, the state
 * folder (at any depth, so a nested pair's bookkeeping is not copied either) and temporary
 * files of atomic writes.
 */
export function isEngineInternalPath(path: string): boolean {
  if (path === '') return false;
  // Every internal name contains `.sync`: most paths are settled without splitting them.
  if (!path.includes('.sync')) return false;
  const segments = path.split('/');
  for (const segment of segments) {
    if (segment === ENGINE_DIR || segment === STATE_DIR_NAME) return true;
  }
  return isTempName(segments[segments.length - 1]!);
}

/**
 * Printable ASCII segments (no `\\`, `:` or NUL) joined by single `/`, none of them `.` or
 * `..`: such a path is already normalised.
 */
const PLAIN_PATH =
  /^(?!\.\.?(?:\/|$))[\x20-\x2e\x30-\x39\x3b-\x5b\x5d-\x7e]+(?:\/(?!\.\.?(?:\/|$))[\x20-\x2e\x30-\x39\x3b-\x5b\x5d-\x7e]+)*$/;

function invalid(path: string, why: string): SyncError {
  return new SyncError('INVALID_PATH', `invalid path ${JSON.stringify(path)}: ${why}`, { path });
}

/**
 * Checks and normalises a relative path: NFC, `/`-separated, `.` segments and one trailing
 * `/` dropped. Rejects absolute paths, `..`, empty segments, NUL bytes and (unless
 * `allowRoot`) the empty path, with `SyncError('INVALID_PATH')`.
 */
export function normalizeRelativePath(path: string, options?: { allowRoot?: boolean }): string {
  // Most paths are already plain ASCII relative paths: settled with one regular expression.
  if (typeof path === 'string' && PLAIN_PATH.test(path)) return path;
  if (typeof path !== 'string') throw invalid(String(path), 'not a string');
  if (path.includes('\0')) throw invalid(path, 'contains a NUL byte');
  if (path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path) || path.startsWith('\\\\')) {
    throw invalid(path, 'absolute paths are not allowed');
  }
  let rest = path.normalize('NFC');
  if (rest.endsWith('/')) rest = rest.slice(0, -1);
  if (rest === '' || rest === '.') {
    if (options?.allowRoot) return '';
    throw invalid(path, 'empty path');
  }
  const out: string[] = [];
  for (const segment of rest.split('/')) {
    if (segment === '.') continue;
    if (segment === '..') throw invalid(path, '".." is not allowed');
    if (segment === '') throw invalid(path, 'empty path segment');
    out.push(segment);
  }
  if (out.length === 0) {
    if (options?.allowRoot) return '';
    throw invalid(path, 'empty path');
  }
  return out.join('/');
}

/** Joins relative path parts with `/`, skipping empty parts. Does not normalise. */
export function joinPath(...parts: string[]): string {
  return parts.filter((part) => part !== '').join('/');
}

/** `a/b/c` → `a/b`; `a` → `` (the root). */
export function parentPath(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? '' : path.slice(0, slash);
}

/** `a/b/c` → `c`. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** True when `path` is `ancestor` itself or lies below it (`ancestor` '' is the root). */
export function isSameOrBelow(path: string, ancestor: string): boolean {
  return ancestor === '' || path === ancestor || path.startsWith(`${ancestor}/`);
}

/**
 * Orders paths depth-first with each directory before its contents: compares segment by
 * segment, so `a/b` sorts right after `a` and before `a b`.
 */
export function comparePaths(a: string, b: string): number {
  const as = a.split('/');
  const bs = b.split('/');
  const n = Math.min(as.length, bs.length);
  for (let i = 0; i < n; i++) {
    const x = as[i]!;
    const y = bs[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return as.length - bs.length;
}
