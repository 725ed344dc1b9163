/**
 * The file steps of a scenario, carried out on real folders with `node:fs`, the way
 * rclone's test harness does them: copies keep the source's mtime, touches set UTC
 * midnight, names may carry raw bytes (`fsPath`). The engine's own folder (`.syncengine`)
 * is left alone by purges and folder copies: it is not user data.
 */
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { ENGINE_DIR } from '../../../src/paths.js';
import { decodeFileName } from './listing.js';
import { fsPath, globToRegExp, utcMidnight } from './scenario.js';

const stripSlash = (path: string) => (path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path);
const baseName = (path: string) => stripSlash(path).slice(stripSlash(path).lastIndexOf('/') + 1);

function ensureWritable(path: string): void {
  const target = fsPath(path);
  const mode = lstatSync(target).mode;
  // Sources come from a read-only checkout; copies must stay editable by later steps and the engine.
  if ((mode & 0o200) === 0) chmodSync(target, mode | 0o200);
}

/** Copies one file to `dst` (creating folders), keeping its mtime, replacing what is there. */
export function copyFileKeepingMtime(src: string, dst: string): void {
  const source = fsPath(src);
  const target = fsPath(dst);
  mkdirSync(fsPath(dirname(dst)), { recursive: true });
  if (existsSync(target)) rmSync(target, { force: true });
  copyFileSync(source, target);
  ensureWritable(dst);
  const { atime, mtime } = statSync(source);
  utimesSync(target, atime, mtime);
}

/** Names directly in `dir` (decoded as `listing.decodeFileName` does). */
function namesIn(dir: string): string[] {
  if (!existsSync(fsPath(dir))) return [];
  return readdirSync(fsPath(dir), { encoding: 'buffer' }).map(decodeFileName);
}

const join = (dir: string, name: string) => `${stripSlash(dir)}/${name}`;

/** Sets the mtime of a path (file or folder) to UTC midnight of `date`. */
export function touch(path: string, date: string): void {
  const when = new Date(utcMidnight(date));
  utimesSync(fsPath(path), when, when);
}

/** `touch-glob`: every entry directly in `dir` whose name matches `glob`. */
export function touchGlob(date: string, dir: string, glob: string): string[] {
  const pattern = globToRegExp(glob);
  const touched = namesIn(dir).filter((name) => pattern.test(name) && name !== ENGINE_DIR);
  for (const name of touched) touch(join(dir, name), date);
  return touched;
}

/** `copy-file SRC DSTDIR`: DSTDIR/basename(SRC). `copy-as`: DSTDIR/NAME (NAME may hold folders). */
export function copyInto(src: string, dstDir: string, name = baseName(src)): void {
  copyFileKeepingMtime(src, join(dstDir, name));
}

export function deleteFile(path: string): void {
  rmSync(fsPath(stripSlash(path)), { force: true });
}

/** `delete-glob`: files directly in `dir` matching `glob`. */
export function deleteGlob(dir: string, glob: string): void {
  const pattern = globToRegExp(glob);
  for (const name of namesIn(dir)) {
    const path = join(dir, name);
    if (pattern.test(name) && lstatSync(fsPath(path)).isFile()) rmSync(fsPath(path));
  }
}

/** `purge-children`: everything inside `dir` but the engine's own folder. */
export function purgeChildren(dir: string): void {
  for (const name of namesIn(dir)) {
    if (name === ENGINE_DIR) continue;
    rmSync(fsPath(join(dir, name)), { recursive: true, force: true });
  }
}

/** `copy-dir` (merge) and `sync-dir` (mirror: also deletes what `src` lacks). Keeps mtimes. */
export function copyDir(src: string, dst: string, mirror: boolean): void {
  mkdirSync(fsPath(stripSlash(dst)), { recursive: true });
  const sourceNames = new Set(namesIn(src).filter((name) => name !== ENGINE_DIR));
  if (mirror) {
    for (const name of namesIn(dst)) {
      if (name === ENGINE_DIR || sourceNames.has(name)) continue;
      rmSync(fsPath(join(dst, name)), { recursive: true, force: true });
    }
  }
  for (const name of sourceNames) {
    const from = join(src, name);
    const to = join(dst, name);
    const stat = lstatSync(fsPath(from));
    if (stat.isDirectory()) {
      if (existsSync(fsPath(to)) && !lstatSync(fsPath(to)).isDirectory()) rmSync(fsPath(to), { force: true });
      copyDir(from, to, mirror);
      utimesSync(fsPath(to), stat.atime, stat.mtime);
    } else if (stat.isFile()) {
      if (existsSync(fsPath(to)) && lstatSync(fsPath(to)).isDirectory()) {
        rmSync(fsPath(to), { recursive: true, force: true });
      }
      copyFileKeepingMtime(from, to);
    }
  }
}

/**
 * `fix-names`: makes the name on disk NFC, the form the scenario means (a file system may
 * have stored another form). A trailing `/` names a folder.
 */
export function fixNames(path: string): void {
  const target = stripSlash(path);
  const slash = target.lastIndexOf('/');
  const dir = target.slice(0, slash);
  const wanted = target.slice(slash + 1).normalize('NFC');
  for (const name of namesIn(dir)) {
    if (name !== wanted && name.normalize('NFC') === wanted) {
      renameSync(fsPath(join(dir, name)), fsPath(join(dir, wanted)));
    }
  }
}

/** Pins every file and folder below `root` (and `root` itself) to UTC midnight of `date`. */
export function pinTree(root: string, date: string): void {
  for (const name of namesIn(root)) {
    const path = join(root, name);
    ensureWritable(path);
    if (lstatSync(fsPath(path)).isDirectory()) pinTree(path, date);
    else touch(path, date);
  }
  ensureWritable(root);
  touch(root, date);
}
