import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** True when `command args` runs and exits with status 0 (e.g. `rclone version`). */
export function hasCommand(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** True when an `rclone` binary is on the PATH. */
export function hasRclone(): boolean {
  return hasCommand('rclone', ['version']);
}

/** A fresh folder below the system's temporary folder, named `prefix` plus a random suffix. */
export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Removes a folder and everything in it; a missing folder is fine. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Resolves once something accepts TCP connections on 127.0.0.1:`port`; rejects when
 * `child` (named `name` in the error) exits first or nothing listens within `timeoutMs`.
 */
export async function waitForPort(
  port: number,
  child: ChildProcess,
  name: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode}`);
    const isOpen = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
      socket.connect(port, '127.0.0.1');
    });
    if (isOpen) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nothing listened on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

/** Stops a child process (SIGTERM, SIGKILL after 3 s) and waits for it to exit. */
export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** How `startServerProcess` runs a server. */
export interface ServerProcessOptions {
  /** The server's name in error messages, e.g. `sshd`. */
  name: string;
  /** The port the server listens on, on 127.0.0.1. */
  port: number;
  /** How long the server may take to listen (default 10 000 ms). */
  timeoutMs?: number;
  /** A folder the server owns; removed when the server fails to start or is stopped. */
  dir: string;
}

/** A server process that listens on its port; `stop()` ends it and removes its folder. */
export interface ServerProcess {
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Spawns `command args` (stdout ignored, stderr kept) and waits until it listens on
 * `options.port`. When it does not, stops it, removes `options.dir` and throws an error
 * that carries what the server wrote to stderr.
 */
export async function startServerProcess(
  command: string,
  args: string[],
  options: ServerProcessOptions,
): Promise<ServerProcess> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const stop = async (): Promise<void> => {
    await stopChild(child);
    removeDir(options.dir);
  };
  try {
    await waitForPort(options.port, child, options.name, options.timeoutMs);
  } catch (error) {
    await stop();
    throw new Error(`${options.name} did not start: ${String(error)}\n${stderr}`);
  }
  return { child, stop };
}
