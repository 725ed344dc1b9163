import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `rclone serve webdav` on 127.0.0.1 over a temporary folder, for integration tests. */
export interface WebdavTestServer {
  /** Base URL of the served folder. */
  url: string;
  username: string;
  password: string;
  /** The folder on disk that the server serves. */
  dataDir: string;
  stop(): Promise<void>;
}

/** True when an `rclone` binary is on the PATH. */
export function hasRclone(): boolean {
  try {
    execFileSync('rclone', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
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

async function waitForPort(port: number, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`rclone exited with code ${child.exitCode}`);
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

/**
 * Starts `rclone serve webdav` with basic authentication. Its directory cache is turned
 * off so that files changed on disk behind the server's back show up at once.
 */
export async function startRcloneWebdav(): Promise<WebdavTestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'syncengine-webdav-'));
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  const port = await freePort();
  const username = 'sync';
  const password = 'engine-test';
  const child = spawn(
    'rclone',
    [
      'serve',
      'webdav',
      dataDir,
      '--addr',
      `127.0.0.1:${port}`,
      '--user',
      username,
      '--pass',
      password,
      '--dir-cache-time',
      '0s',
      '--config',
      join(dir, 'rclone.conf'),
      '--log-level',
      'ERROR',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  try {
    await waitForPort(port, child);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`rclone serve webdav did not start: ${String(error)}\n${stderr}`);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    username,
    password,
    dataDir,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
