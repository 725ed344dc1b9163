import { SyncError } from '../errors.js';
import type { Entry, HashAlgorithm, Tree } from '../model.js';
import type { TreeIndexBuilder } from './tree-index.js';

/**
 * The tree files of the file state store (SPEC §11): a JSON object of path → record, which
 * the store writes one entry a line and reads back entry by entry, so a tree of a hundred
 * thousand paths is neither held as one string while written nor parsed into an object of
 * records before it becomes a `Tree`.
 */

/** One tree entry as stored on disk (SPEC §11); the path is the key. */
export interface EntryRecord {
  hash?: string;
  hash_algorithm?: string;
  size: number;
  mtime: number;
  is_dir: boolean;
  id?: string;
  /** `Entry.ctime`; absent in records of state format 1. */
  ctime?: number;
}

/** `STATE_CORRUPT`, naming the file and what is wrong with it. */
export function stateCorrupt(file: string, why: string, cause?: unknown): SyncError {
  return new SyncError(
    'STATE_CORRUPT',
    `the sync state file ${file} is unreadable: ${why}`,
    cause === undefined ? undefined : { cause },
  );
}

export function toRecord(entry: Entry): EntryRecord {
  const record: EntryRecord = { size: entry.size, mtime: entry.mtime, is_dir: entry.isDir };
  if (entry.hash !== undefined) {
    record.hash = entry.hash;
    if (entry.hashAlgorithm !== undefined) record.hash_algorithm = entry.hashAlgorithm;
  }
  if (entry.id !== undefined) record.id = entry.id;
  if (entry.ctime !== undefined) record.ctime = entry.ctime;
  return record;
}

/** The entry of a parsed record; `STATE_CORRUPT` (naming `file`) when it is not one. */
export function fromRecord(path: string, value: unknown, file: string): Entry {
  if (typeof value !== 'object' || value === null)
    throw stateCorrupt(file, `entry for ${JSON.stringify(path)} is not an object`);
  const record = value as Record<string, unknown>;
  if (
    typeof record.size !== 'number' ||
    typeof record.mtime !== 'number' ||
    typeof record.is_dir !== 'boolean'
  ) {
    throw stateCorrupt(file, `entry for ${JSON.stringify(path)} lacks size, mtime or is_dir`);
  }
  const entry: Entry = { path, size: record.size, mtime: record.mtime, isDir: record.is_dir };
  if (typeof record.hash === 'string') entry.hash = record.hash;
  if (typeof record.hash_algorithm === 'string') entry.hashAlgorithm = record.hash_algorithm;
  if (typeof record.id === 'string') entry.id = record.id;
  if (typeof record.ctime === 'number') entry.ctime = record.ctime;
  return entry;
}

/** Text JSON.stringify writes as it is: no quote, backslash, control character or lone surrogate. */
const VERBATIM_JSON_TEXT = /^[ !#-\x5b\x5d-\ud7ff\ue000-\uffff]*$/;

/**
 * `JSON.stringify(toRecord(entry))`, built directly where every string is written verbatim
 * (paths, hashes and ids nearly always are): no record object per entry.
 */
export function recordText(entry: Entry): string {
  const { size, mtime, isDir, hash, hashAlgorithm, id, ctime } = entry;
  const isPlain =
    Number.isFinite(size) &&
    Number.isFinite(mtime) &&
    (ctime === undefined || Number.isFinite(ctime)) &&
    (hash === undefined || VERBATIM_JSON_TEXT.test(hash)) &&
    (hashAlgorithm === undefined || VERBATIM_JSON_TEXT.test(hashAlgorithm)) &&
    (id === undefined || VERBATIM_JSON_TEXT.test(id));
  if (!isPlain) return JSON.stringify(toRecord(entry));
  let text = `{"size":${size},"mtime":${mtime},"is_dir":${isDir}`;
  if (hash !== undefined) {
    text += `,"hash":"${hash}"`;
    if (hashAlgorithm !== undefined) text += `,"hash_algorithm":"${hashAlgorithm}"`;
  }
  if (id !== undefined) text += `,"id":"${id}"`;
  if (ctime !== undefined) text += `,"ctime":${ctime}`;
  return `${text}}`;
}

/** A path as a JSON string, as JSON.stringify writes it. */
export const pathText = (path: string): string =>
  VERBATIM_JSON_TEXT.test(path) ? `"${path}"` : JSON.stringify(path);

const SERIALIZE_CHUNK = 1 << 20;

/**
 * Serialises a tree as a JSON object, one entry per line (readable, and cheap to build), in
 * chunks of about a megabyte, so a large tree is never held as one string. `index` is told
 * where each line lies (byte offsets).
 */
export function* serializeTree(tree: Tree, index?: TreeIndexBuilder): Generator<string> {
  if (tree.size === 0) {
    yield '{}\n';
    return;
  }
  let chunk = '{\n';
  let isFirst = true;
  // Byte offset of the next line: after `{\n`, and after each `,\n`.
  let offset = 2;
  for (const [path, entry] of tree) {
    const line = `${pathText(path)}:${recordText(entry)}`;
    chunk += isFirst ? line : `,\n${line}`;
    if (index) {
      if (!isFirst) offset += 2;
      const end = offset + Buffer.byteLength(line);
      index.add(path, entry.isDir, offset, end);
      offset = end;
    }
    isFirst = false;
    if (chunk.length >= SERIALIZE_CHUNK) {
      yield chunk;
      chunk = '';
    }
  }
  yield `${chunk}\n}\n`;
}

/**
 * Reads a tree file: as `serializeTree` lays it out, entry by entry (`readTreeLines`); any
 * other valid JSON object of path → record through `JSON.parse`. `STATE_CORRUPT` (naming
 * `file`) when the bytes are not such an object: damaged, or cut short. Text is read as
 * its UTF-8 bytes, as the file holds it.
 */
export function parseTree(input: Buffer | string, file: string): Tree {
  const bytes = asBuffer(input);
  const fast = readTreeLines(bytes, file);
  if (fast) return fast;
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw stateCorrupt(file, `${(error as Error).message} (truncated or damaged JSON)`, error);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw stateCorrupt(file, 'expected a JSON object of path → entry');
  }
  const tree: Tree = new Map();
  const records = parsed as Record<string, unknown>;
  // for…in over the parsed object: no array of [key, value] pairs for a large tree.
  for (const path in records) tree.set(path, fromRecord(path, records[path], file));
  return tree;
}

const asBuffer = (input: Buffer | string): Buffer =>
  typeof input === 'string' ? Buffer.from(input, 'utf8') : input;

const ascii = (text: string): Buffer => Buffer.from(text, 'latin1');
const KEY_END = ascii('":{');
const SIZE = ascii('{"size":');
const MTIME = ascii(',"mtime":');
const IS_DIR = ascii(',"is_dir":');
const TRUE = ascii('true');
const FALSE = ascii('false');
const HASH = ascii(',"hash":');
const HASH_ALGORITHM = ascii(',"hash_algorithm":');
const ID = ascii(',"id":');
const CTIME = ascii(',"ctime":');
/** Algorithm names as one string each, rather than one copy a record. */
const KNOWN_ALGORITHMS = ['xxh3-64', 'xxh3-128', 'md5', 'sha1', 'sha256', 'etag'].map((name) => ({
  name,
  bytes: ascii(name),
}));

/**
 * Reads a tree in the layout `serializeTree` writes (`{`, one `"path":{…}` a line, `}`) entry
 * by entry from the file's bytes, without building the whole object or even the file's text:
 * each record written with plain strings (no escape) and integers of at most 15 digits is
 * read in place, any other through `JSON.parse` of its line alone. Every string is decoded on
 * its own, so none keeps the file's text alive. Null when the bytes are laid out any other way
 * or anything in them is off, so that the full parse (and its error reporting) decides; the
 * result is always what `JSON.parse` of the whole text (the bytes decoded as UTF-8) would give.
 */
export function readTreeLines(input: Buffer | string, file: string): Tree | null {
  const bytes = asBuffer(input);
  const length = bytes.length;
  if (
    length < 4 ||
    bytes[0] !== 0x7b ||
    bytes[1] !== 0x0a ||
    bytes[length - 3] !== 0x0a ||
    bytes[length - 2] !== 0x7d ||
    bytes[length - 1] !== 0x0a
  ) {
    return null;
  }
  /** Where the last `readInteger` or `readPlainString` stopped. */
  let cursor = 0;

  const startsWith = (pattern: Buffer, at: number): boolean => {
    for (let index = 0; index < pattern.length; index++) {
      if (bytes[at + index] !== pattern[index]) return false;
    }
    return true;
  };

  /** A JSON integer (no leading zero) of at most 15 digits at `at`; NaN otherwise. */
  const readInteger = (at: number, allowMinus: boolean): number => {
    const isNegative = allowMinus && bytes[at] === 0x2d;
    const first = isNegative ? at + 1 : at;
    let index = first;
    let value = 0;
    for (; index < length; index++) {
      const code = bytes[index]!;
      if (code < 0x30 || code > 0x39) break;
      value = value * 10 + (code - 0x30);
    }
    const digits = index - first;
    if (digits === 0 || digits > 15 || (digits > 1 && bytes[first] === 0x30)) return Number.NaN;
    cursor = index;
    return isNegative ? -value : value;
  };

  /**
   * The text between `from` and `to` when it holds no quote, backslash or control character
   * (a JSON string's content as it is), decoded on its own; null otherwise.
   */
  const plainText = (from: number, to: number): string | null => {
    let isAscii = true;
    for (let index = from; index < to; index++) {
      const code = bytes[index]!;
      if (code < 0x20 || code === 0x5c || code === 0x22) return null;
      if (code >= 0x80) isAscii = false;
    }
    return bytes.toString(isAscii ? 'latin1' : 'utf8', from, to);
  };

  /** A JSON string at `at` holding no escape and no control character, before `stop`; null otherwise. */
  const readPlainString = (at: number, stop: number): string | null => {
    if (bytes[at] !== 0x22) return null;
    const close = bytes.indexOf(0x22, at + 1);
    if (close === -1 || close >= stop) return null;
    const text = plainText(at + 1, close);
    if (text !== null) cursor = close + 1;
    return text;
  };

  /** A known algorithm's name at `at` (a JSON string), as one shared string; else as `readPlainString`. */
  const readAlgorithm = (at: number, stop: number): string | null => {
    for (const known of KNOWN_ALGORITHMS) {
      const after = at + 1 + known.bytes.length;
      if (bytes[at] === 0x22 && bytes[after] === 0x22 && after < stop && startsWith(known.bytes, at + 1)) {
        cursor = after + 1;
        return known.name;
      }
    }
    return readPlainString(at, stop);
  };

  /**
   * The entry of a record as `recordText` writes it with plain strings and short integers,
   * read between `start` and `stop`; null for anything else (its line's JSON.parse decides).
   */
  const plainRecord = (path: string, start: number, stop: number): Entry | null => {
    if (!startsWith(SIZE, start)) return null;
    const size = readInteger(start + SIZE.length, false);
    if (Number.isNaN(size) || !startsWith(MTIME, cursor)) return null;
    const mtime = readInteger(cursor + MTIME.length, true);
    if (Number.isNaN(mtime) || !startsWith(IS_DIR, cursor)) return null;
    let at = cursor + IS_DIR.length;
    let isDir: boolean;
    if (startsWith(TRUE, at)) {
      isDir = true;
      at += TRUE.length;
    } else if (startsWith(FALSE, at)) {
      isDir = false;
      at += FALSE.length;
    } else return null;
    let hash: string | null = null;
    let algorithm: string | null = null;
    let id: string | null = null;
    if (startsWith(HASH, at)) {
      hash = readPlainString(at + HASH.length, stop);
      if (hash === null) return null;
      at = cursor;
      if (startsWith(HASH_ALGORITHM, at)) {
        algorithm = readAlgorithm(at + HASH_ALGORITHM.length, stop);
        if (algorithm === null) return null;
        at = cursor;
      }
    }
    if (startsWith(ID, at)) {
      id = readPlainString(at + ID.length, stop);
      if (id === null) return null;
      at = cursor;
    }
    let ctime: number | null = null;
    if (startsWith(CTIME, at)) {
      ctime = readInteger(at + CTIME.length, true);
      if (Number.isNaN(ctime)) return null;
      at = cursor;
    }
    if (at !== stop - 1 || bytes[at] !== 0x7d) return null;
    // The usual record has every field: one literal keeps them all inside the object.
    if (hash !== null && algorithm !== null && id !== null) {
      const hashAlgorithm = algorithm as HashAlgorithm;
      return ctime === null
        ? { path, size, mtime, isDir, hash, hashAlgorithm, id }
        : { path, size, mtime, isDir, hash, hashAlgorithm, id, ctime };
    }
    const entry: Entry = { path, size, mtime, isDir };
    if (hash !== null) entry.hash = hash;
    if (algorithm !== null) entry.hashAlgorithm = algorithm as HashAlgorithm;
    if (id !== null) entry.id = id;
    if (ctime !== null) entry.ctime = ctime;
    return entry;
  };

  const tree: Tree = new Map();
  const end = length - 3;
  let start = 2;
  while (start < end) {
    let lineEnd = bytes.indexOf(0x0a, start);
    if (lineEnd === -1 || lineEnd > end) lineEnd = end;
    const isLast = lineEnd === end;
    // Every line but the last ends with the comma that separates it from the next.
    if (!isLast && bytes[lineEnd - 1] !== 0x2c) return null;
    const stop = isLast ? lineEnd : lineEnd - 1;
    // The first `":{` closes the key: a quote inside the key is escaped, and a key cut at
    // one is not a JSON string, so it fails to parse below.
    const colon = bytes.indexOf(KEY_END, start + 1);
    if (colon === -1 || colon >= stop || bytes[start] !== 0x22 || bytes[stop - 1] !== 0x7d) return null;
    try {
      const path: unknown =
        plainText(start + 1, colon) ?? JSON.parse(bytes.toString('utf8', start, colon + 1));
      if (typeof path !== 'string') return null;
      const entry =
        plainRecord(path, colon + 2, stop) ??
        fromRecord(path, JSON.parse(bytes.toString('utf8', colon + 2, stop)), file);
      tree.set(path, entry);
    } catch {
      return null;
    }
    start = lineEnd + 1;
  }
  return tree;
}
