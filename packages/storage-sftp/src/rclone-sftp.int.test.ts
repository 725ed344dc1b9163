import { isSyncError } from '@syncengine/engine';
import { describeStorageContract, writeText } from '@syncengine/engine/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { hasRclone, type RcloneSftpServer, startRcloneSftp } from '../test/testing/sshd-server.js';
import { SftpStorage, type SftpStorageOptions } from './sftp-storage.js';

const rclone = hasRclone();
if (!rclone && process.env.REQUIRE_SERVICES === '1') {
  throw new Error('REQUIRE_SERVICES=1 but rclone is missing: install Debian package rclone');
}

let shared: Promise<RcloneSftpServer> | undefined;
function sharedServer(): Promise<RcloneSftpServer> {
  shared ??= startRcloneSftp();
  return shared;
}
afterAll(async () => {
  if (shared) await (await shared).stop();
});

let roots = 0;
async function options(overrides: Partial<SftpStorageOptions> = {}): Promise<SftpStorageOptions> {
  const server = await sharedServer();
  roots += 1;
  return {
    host: server.host,
    port: server.port,
    username: server.username,
    password: server.password,
    knownHostsPath: server.knownHostsPath,
    // rclone serves its folder as `/`.
    root: `/root-${roots}`,
    agent: '',
    env: { HOME: '/nonexistent' },
    retry: { attempts: 4, baseDelayMs: 20, maxDelayMs: 100 },
    ...overrides,
  };
}

// A second SFTP server implementation: password login, no posix-rename extension.
if (rclone) {
  describeStorageContract(
    'SftpStorage (rclone serve sftp, password)',
    async () => ({ storage: new SftpStorage(await options()), cleanup: async () => undefined }),
    {
      largeTreeSize: 500,
      dropConnection: async (storage) => {
        (storage as SftpStorage).dropConnections();
      },
    },
  );
}

describe.skipIf(!rclone)('SftpStorage password login', () => {
  it('refuses a wrong password with PERMISSION, naming what was tried', async () => {
    const storage = new SftpStorage(await options({ password: 'wrong' }));
    const error = await writeText(storage, 'x.txt', 'x').catch((e: unknown) => e);
    await storage.close();
    expect(isSyncError(error, 'PERMISSION')).toBe(true);
    expect((error as Error).message).toMatch(/authentication failed for sync \(tried: password\)/);
  });
});
