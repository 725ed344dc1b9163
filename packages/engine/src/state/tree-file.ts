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
 * `file`) when the text is not such an object: damaged, or cut short.
 */
export function parseTree(text: string, file: string): Tree {
  const fast = readTreeLines(text, file);
  if (fast) return fast;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
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

/** Text a JSON string holds as it is: no quote, backslash or control character. */
const PLAIN_JSON_TEXT = /^[ !#-\x5b\x5d-\uffff]*$/;

/**
 * Reads a tree in the layout `serializeTree` writes (`{`, one `"path":{…}` a line, `}`) entry
 * by entry, without building the whole object first: each record written with plain strings
 * (no escape) and integers of at most 15 digits is read in place, any other through
 * `JSON.parse` of its line alone. Null when the text is laid out any other way or anything in
 * it is off, so that the full parse (and its error reporting) decides; the result is always
 * what `JSON.parse` of the whole text would give.
 */
export function readTreeLines(text: string, file: string): Tree | null {
  if (!text.startsWith('{\n') || !text.endsWith('\n}\n')) return null;
  /** Where the last `readInteger` or `readPlainString` stopped. */
  let cursor = 0;

  /** A JSON integer (no leading zero) of at most 15 digits at `at`; NaN otherwise. */
  const readInteger = (at: number, allowMinus: boolean): number => {
    const isNegative = allowMinus && text.charCodeAt(at) === 0x2d;
    const first = isNegative ? at + 1 : at;
    let index = first;
    let value = 0;
    for (; ; index++) {
      const code = text.charCodeAt(index);
      if (code < 0x30 || code > 0x39) break;
      value = value * 10 + (code - 0x30);
    }
    const digits = index - first;
    if (digits === 0 || digits > 15 || (digits > 1 && text.charCodeAt(first) === 0x30)) return Number.NaN;
    cursor = index;
    return isNegative ? -value : value;
  };

  /** A JSON string at `at` holding no escape and no control character, before `stop`; null otherwise. */
  const readPlainString = (at: number, stop: number): string | null => {
    if (text.charCodeAt(at) !== 0x22) return null;
    const close = text.indexOf('"', at + 1);
    if (close === -1 || close >= stop) return null;
    for (let index = at + 1; index < close; index++) {
      const code = text.charCodeAt(index);
      if (code < 0x20 || code === 0x5c) return null;
    }
    cursor = close + 1;
    return text.slice(at + 1, close);
  };

  /**
   * The entry of a record as `recordText` writes it with plain strings and short integers,
   * read between `start` and `stop`; null for anything else (its line's JSON.parse decides).
   */
  const plainRecord = (path: string, start: number, stop: number): Entry | null => {
    if (!text.startsWith('{"size":', start)) return null;
    const size = readInteger(start + 8, false);
    if (!text.startsWith(',"mtime":', cursor)) return null;
    const mtime = readInteger(cursor + 9, true);
    if (Number.isNaN(size) || Number.isNaN(mtime) || !text.startsWith(',"is_dir":', cursor)) return null;
    let at = cursor + 10;
    let isDir: boolean;
    if (text.startsWith('true', at)) {
      isDir = true;
      at += 4;
    } else if (text.startsWith('false', at)) {
      isDir = false;
      at += 5;
    } else return null;
    let hash: string | null = null;
    let algorithm: string | null = null;
    let id: string | null = null;
    if (text.startsWith(',"hash":', at)) {
      hash = readPlainString(at + 8, stop);
      if (hash === null) return null;
      at = cursor;
      if (text.startsWith(',"hash_algorithm":', at)) {
        algorithm = readPlainString(at + 18, stop);
        if (algorithm === null) return null;
        at = cursor;
      }
    }
    if (text.startsWith(',"id":', at)) {
      id = readPlainString(at + 6, stop);
      if (id === null) return null;
      at = cursor;
    }
    let ctime: number | null = null;
    if (text.startsWith(',"ctime":', at)) {
      ctime = readInteger(at + 9, true);
      if (Number.isNaN(ctime)) return null;
      at = cursor;
    }
    if (at !== stop - 1 || text.charCodeAt(at) !== 0x7d) return null;
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
  const end = text.length - 3;
  let start = 2;
  while (start < end) {
    let lineEnd = text.indexOf('\n', start);
    if (lineEnd === -1 || lineEnd > end) lineEnd = end;
    const isLast = lineEnd === end;
    // Every line but the last ends with the comma that separates it from the next.
    if (!isLast && text.charCodeAt(lineEnd - 1) !== 0x2c) return null;
    const stop = isLast ? lineEnd : lineEnd - 1;
    // The first `":{` closes the key: a quote inside the key is escaped, and a key cut at
    // one is not a JSON string, so it fails to parse below.
    const colon = text.indexOf('":{', start + 1);
    if (
      colon === -1 ||
      colon >= stop ||
      text.charCodeAt(start) !== 0x22 ||
      text.charCodeAt(stop - 1) !== 0x7d
    ) {
      return null;
    }
    try {
      const key = text.slice(start + 1, colon);
      const path: unknown = PLAIN_JSON_TEXT.test(key) ? key : JSON.parse(text.slice(start, colon + 1));
      if (typeof path !== 'string') return null;
      const entry =
        plainRecord(path, colon + 2, stop) ?? fromRecord(path, JSON.parse(text.slice(colon + 2, stop)), file);
      tree.set(path, entry);
    } catch {
      return null;
    }
    start = lineEnd + 1;
  }
  return tree;
}
