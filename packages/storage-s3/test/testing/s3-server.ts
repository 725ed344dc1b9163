import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { freePort, makeTempDir, startServerProcess } from '@syncengine/engine/testing';

/** An S3-compatible server (s3rver) on 127.0.0.1, for integration tests and benchmarks. */
export interface S3TestServer {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
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
  const directory = makeTempDir('syncengine-s3rver-');
  const port = await freePort();
  const server = await startServerProcess(
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
    { name: 's3rver', port, dir: directory, timeoutMs: 15_000 },
  );
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    // s3rver accepts these fixed credentials and checks request signatures with them.
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    stop: server.stop,
  };
}
