import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** An S3-compatible server (s3rver) on 127.0.0.1, for integration tests and benchmarks. */
export interface S3TestServer {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
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

async function waitForPort(port: number, child: ChildProcess, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`s3rver exited with code ${child.exitCode}`);
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
  throw new Error(`s3rver did not listen on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

/** Path of s3rver's command-line entry point. */
export function s3rverBin(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('s3rver/package.json')), 'bin', 's3rver.js');
}

/**
 * Starts s3rver in its own Node process on a spare port with one empty bucket, storing
 * objects in a temporary folder. s3rver encrypts ListObjectsV2 continuation tokens with
 * DES, which Node 20's OpenSSL 3 only offers through its legacy provider: without
 * `--openssl-legacy-provider` every truncated listing (more than 1 000 keys) fails.
 */
export async function startS3Server(bucket = 'syncengine-test'): Promise<S3TestServer> {
  const directory = mkdtempSync(join(tmpdir(), 'syncengine-s3rver-'));
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      '--openssl-legacy-provider',
      s3rverBin(),
      '--address',
      '127.0.0.1',
      '--port',
      String(port),
      '--directory',
      directory,
      '--configure-bucket',
      bucket,
      '--silent',
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
    rmSync(directory, { recursive: true, force: true });
    throw new Error(`${String(error)}\n${stderr}`);
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    // s3rver accepts these fixed credentials and checks request signatures with them.
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
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
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
