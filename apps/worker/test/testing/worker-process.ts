import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (where `node --conditions=source` resolves workspace sources). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

/** One JSON log line of a worker. */
export type WorkerLogLine = { level: string; time: number; pid: number; msg: string } & Record<
  string,
  unknown
>;

export interface WorkerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logs: WorkerLogLine[];
  /** Everything written to stderr. */
  stderr(): string;
  waitForLog(match: (line: WorkerLogLine) => boolean, timeoutMs?: number): Promise<WorkerLogLine>;
  /** Resolves with the exit code (or signal) once the process is gone. */
  readonly exited: Promise<number | NodeJS.Signals | null>;
  kill(signal: NodeJS.Signals): Promise<number | NodeJS.Signals | null>;
}

/** Starts `apps/worker/src/main.ts` as a real child process, from the TypeScript sources. */
export function spawnWorker(name: string, env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: WorkerLogLine[] = [];
  const waiters = new Set<() => void>();
  let errText = '';
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        logs.push(JSON.parse(line) as WorkerLogLine);
      } catch {
        errText += `${line}\n`;
      }
    }
    for (const wake of [...waiters]) wake();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    errText += chunk;
  });
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve(code ?? signal);
      for (const wake of [...waiters]) wake();
    });
  });
  let exitResult: number | NodeJS.Signals | null | undefined;
  void exited.then((value) => {
    exitResult = value;
  });
  return {
    name,
    child,
    logs,
    stderr: () => errText,
    exited,
    waitForLog(match, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = logs.find(match);
          if (found) {
            done();
            resolve(found);
          } else if (exitResult !== undefined) {
            done();
            reject(
              new Error(`worker ${name} exited (${exitResult}) before the log line; stderr:\n${errText}`),
            );
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(`worker ${name}: no matching log line within ${timeoutMs} ms; stderr:\n${errText}`),
          );
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async kill(signal) {
      if (exitResult === undefined) child.kill(signal);
      return exited;
    },
  };
}

/** Relative path → sha256 of every file below `root`, skipping the engine's own temp files. */
export async function treeDigest(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.name === '.syncengine' || entry.name.includes('.syncengine-tmp-')) continue;
      if (entry.isDirectory()) await walk(path);
      else
        out.set(
          relative(root, path),
          createHash('sha256')
            .update(await readFile(path))
            .digest('hex'),
        );
    }
  };
  await walk(root);
  return out;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` returns a value other than undefined/false. */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}
