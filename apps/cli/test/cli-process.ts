/**
 * The `syncengine` command as its tests run it: from source in a child process, exactly as
 * `pnpm syncengine` starts it, on real temporary folders.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, where the command runs (and resolves workspace sources). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The command line that starts `syncengine` from its TypeScript sources. */
export const SYNCENGINE: readonly string[] = [
  process.execPath,
  '--conditions=source',
  '--import',
  'tsx',
  join(REPO_ROOT, 'apps', 'cli', 'src', 'main.ts'),
];

/** How a child process ended, and all it printed. */
export interface ProcessRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `argv` in the repository root and waits for it to end. Its environment is this
 * process's with `NO_COLOR=1` and `env` over it (a variable set to undefined is removed);
 * `input`, when given, is written to its standard input.
 */
export function runProcess(
  argv: readonly string[],
  options: { env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    // Both are pipes (as asked above), never null.
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin?.end(options.input);
  });
}

/** Runs `syncengine ARGS` (see `runProcess` for the options). */
export function runSyncengine(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<ProcessRun> {
  return runProcess([...SYNCENGINE, ...args], options);
}

/** A test's temporary folder and the two empty sides made in it. */
export interface WorkFolders {
  work: string;
  src: string;
  dst: string;
}

/** Makes a temporary folder named after `prefix`, with the folders `sides.src` and `sides.dst` in it. */
export async function makeWorkFolders(
  prefix: string,
  sides: { src: string; dst: string } = { src: 'src', dst: 'dst' },
): Promise<WorkFolders> {
  const work = await mkdtemp(join(tmpdir(), prefix));
  const src = join(work, sides.src);
  const dst = join(work, sides.dst);
  await mkdir(src);
  await mkdir(dst);
  return { work, src, dst };
}

/** Writes `content` to `root/path`, making its folders, with `mtime` when given. */
export async function put(root: string, path: string, content: string, mtime?: Date): Promise<void> {
  const file = join(root, path);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, content);
  if (mtime) await utimes(file, mtime, mtime);
}

/**
 * Every file below `root` with its content, without the engine's own folders. With
 * `withFolders`, folders are listed too (as `path/`) and other entries as `(special)`.
 */
export async function tree(
  root: string,
  options: { withFolders?: boolean } = {},
): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const walk = async (dir: string, prefix: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.name === '.syncengine' || entry.name === '.sync_state') continue;
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (options.withFolders) files[`${rel}/`] = '';
        await walk(join(dir, entry.name), rel);
      } else if (!options.withFolders || entry.isFile()) {
        files[rel] = await readFile(join(dir, entry.name), 'utf8');
      } else files[rel] = '(special)';
    }
  };
  await walk(root, '');
  return files;
}
