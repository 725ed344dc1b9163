import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, makeTempDir, startServerProcess } from '@syncengine/engine/testing';

export { hasRclone } from '@syncengine/engine/testing';

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

/**
 * Starts `rclone serve webdav` with basic authentication. Its directory cache is turned
 * off so that files changed on disk behind the server's back show up at once.
 */
export async function startRcloneWebdav(): Promise<WebdavTestServer> {
  const dir = makeTempDir('syncengine-webdav-');
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  const port = await freePort();
  const username = 'sync';
  const password = 'engine-test';
  const server = await startServerProcess(
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
    { name: 'rclone serve webdav', port, dir },
  );
  return {
    url: `http://127.0.0.1:${port}`,
    username,
    password,
    dataDir,
    stop: server.stop,
  };
}
