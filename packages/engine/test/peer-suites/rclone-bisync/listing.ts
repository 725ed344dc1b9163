/**
 * Listings on both ends of the comparison: rclone's golden `*.lst` files, and the trees our
 * engine left on disk (read directly, not through the engine, so the oracle does not
 * depend on the code under test).
 */
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isEngineInternalPath, VERSIONS_DIR } from '../../../src/paths.js';
import { byteChar } from './scenario.js';

/** One file of a listing. */
export interface ListedFile {
  size: number;
  /** Milliseconds since the epoch. */
  mtime: number;
}

/** name → file, names `/`-separated, relative, compared in normalised form (see `comparableName`). */
export type Listing = Map<string, ListedFile>;

/**
 * The form names are compared in: NFC (our paths are NFC by SPEC §1), and control
 * characters as rclone's local backend stores them (U+0000–U+001F → U+2400–U+241F).
 */
export function comparableName(name: string): string {
  return (
    name
      .normalize('NFC')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this maps.
      .replace(/[\u0000-\u001f]/g, (char) => String.fromCharCode(0x2400 + char.charCodeAt(0)))
  );
}

/** Decodes a Go-quoted string body (`\"`, `\\`, `\xHH`, `\uXXXX`, `\n`, `\t`); `\xHH` is a raw byte (see `byteChar`). */
export function unquoteGo(body: string): string {
  return body.replace(
    /\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[\\"nrt'abfv])/g,
    (_, sequence: string) => {
      switch (sequence[0]) {
        case 'x':
          return byteChar(Number.parseInt(sequence.slice(1), 16));
        case 'u':
        case 'U':
          return String.fromCodePoint(Number.parseInt(sequence.slice(1), 16));
        case 'n':
          return '\n';
        case 'r':
          return '\r';
        case 't':
          return '\t';
        case 'a':
          return '\u0007';
        case 'b':
          return '\b';
        case 'f':
          return '\f';
        case 'v':
          return '\v';
        default:
          return sequence;
      }
    },
  );
}

const LINE = /^(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+"(.*)"$/;

/** Parses a golden `bisync listing v1` file: a header line, then `flags size hash id modtime "name"`. */
export function parseGoldenListing(text: string): Listing {
  const listing: Listing = new Map();
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (!match) throw new Error(`not a bisync listing line: ${line}`);
    const [, , size, , , modtime, name] = match as unknown as string[];
    // Go's time format: 2000-01-01T00:00:00.000000000+0000.
    const iso = (modtime as string).replace(/(\.\d{3})\d*/, '$1').replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
    const mtime = Date.parse(iso);
    if (Number.isNaN(mtime)) throw new Error(`bad modtime in listing line: ${line}`);
    listing.set(comparableName(unquoteGo(name as string)), { size: Number(size), mtime });
  }
  return listing;
}

/** Suffixes of the golden listing files. */
export type ListingSuffix = 'lst' | 'lst-err' | 'lst-new' | 'lst-dry' | 'lst-dry-new';

/**
 * The golden listing file for a side, or null. `prefix` null means the final listings
 * (no `PREFIX.`). The session part of the name varies with `subdir=`, so any session
 * matches; `session` breaks ties.
 */
export function findGoldenListing(
  goldenDir: string,
  prefix: string | null,
  side: 1 | 2,
  suffix: ListingSuffix,
  session: string,
): string | null {
  if (!existsSync(goldenDir)) return null;
  const start = prefix === null ? '_testdir' : `${prefix}._testdir`;
  const end = `.path${side}.${suffix}`;
  const candidates = readdirSync(goldenDir).filter((name) => name.startsWith(start) && name.endsWith(end));
  const exact = candidates.find((name) => name === `${prefix === null ? '' : `${prefix}.`}${session}${end}`);
  const chosen = exact ?? candidates[0];
  return chosen === undefined ? null : join(goldenDir, chosen);
}

export function readGoldenListing(file: string): Listing {
  return parseGoldenListing(readFileSync(file, 'utf8'));
}

/** Decodes a file name's bytes: UTF-8 where valid, each invalid byte as `byteChar` does. */
export function decodeFileName(bytes: Buffer): string {
  let result = '';
  let index = 0;
  while (index < bytes.length) {
    const lead = bytes[index] as number;
    const length =
      lead < 0x80
        ? 1
        : lead >= 0xc2 && lead < 0xe0
          ? 2
          : lead >= 0xe0 && lead < 0xf0
            ? 3
            : lead >= 0xf0 && lead < 0xf5
              ? 4
              : 0;
    let valid = length > 0 && index + length <= bytes.length;
    for (let at = 1; valid && at < length; at++) valid = ((bytes[index + at] as number) & 0xc0) === 0x80;
    if (valid) {
      const decoded = bytes.subarray(index, index + length).toString('utf8');
      valid = !decoded.includes('\ufffd');
      if (valid) {
        result += decoded;
        index += length;
        continue;
      }
    }
    result += byteChar(lead);
    index++;
  }
  return result;
}

/** Every entry below `root` (files and directories), skipping the engine's own folders. */
export function walkTree(root: string): { files: Listing; dirs: Set<string> } {
  const files: Listing = new Map();
  const dirs = new Set<string>();
  const visit = (absolute: Buffer, relative: string) => {
    for (const entry of readdirSync(absolute, { encoding: 'buffer' })) {
      const name = decodeFileName(entry);
      const path = relative === '' ? name : `${relative}/${name}`;
      if (isEngineInternalPath(path) || name.includes('.syncengine-tmp-')) continue;
      const child = Buffer.concat([absolute, Buffer.from('/'), entry]);
      const stat = lstatSync(child);
      if (stat.isDirectory()) {
        dirs.add(comparableName(path));
        visit(child, path);
      } else if (stat.isFile()) {
        files.set(comparableName(path), { size: stat.size, mtime: stat.mtimeMs });
      }
    }
  };
  if (existsSync(root)) visit(Buffer.from(root), '');
  return { files, dirs };
}

/** One file kept in a side's versions area: its original path and metadata. */
export interface VersionedFile extends ListedFile {
  path: string;
}

/** Everything in `.syncengine/versions/<stamp>/…` under `root`. */
export function listVersions(root: string): VersionedFile[] {
  const versionsRoot = join(root, VERSIONS_DIR);
  const found: VersionedFile[] = [];
  if (!existsSync(versionsRoot)) return found;
  for (const stamp of readdirSync(versionsRoot)) {
    const visit = (absolute: string, relative: string) => {
      for (const name of readdirSync(absolute)) {
        const child = join(absolute, name);
        const path = relative === '' ? name : `${relative}/${name}`;
        const stat = lstatSync(child);
        if (stat.isDirectory()) visit(child, path);
        else if (stat.isFile())
          found.push({ path: comparableName(path), size: stat.size, mtime: stat.mtimeMs });
      }
    };
    const stampDir = join(versionsRoot, stamp);
    if (lstatSync(stampDir).isDirectory()) visit(stampDir, '');
  }
  return found;
}

/** Renders a listing for messages: `name (size, mtime)` a line, sorted. */
export function formatListing(listing: Listing): string {
  return [...listing.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, file]) => `  ${name} (${file.size} B, ${new Date(file.mtime).toISOString()})`)
    .join('\n');
}
