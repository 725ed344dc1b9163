/**
 * Real remote servers on 127.0.0.1 for the CLI's integration tests, each described the way
 * a user reaches it from the command line: a location URL, the options and the environment
 * the `syncengine` command needs for it. The servers come from the storage packages' own
 * test helpers (their `testing` exports).
 */
import type { Storage } from '@syncengine/engine';
import { openStorage, parseLocationUrl } from '@syncengine/locations';
import { startS3Server } from '@syncengine/storage-s3/testing';
import { findSshd, startSshd } from '@syncengine/storage-sftp/testing';
import { hasRclone, startRcloneWebdav } from '@syncengine/storage-webdav/testing';

/** A running server, addressed as the CLI addresses it. */
export interface RemoteServer {
  /** The location URL of `root` (a folder or prefix below the server's data area). */
  url(root: string): string;
  /** Command-line options the CLI needs for this server's URLs. */
  cliArgs: string[];
  /** Environment variables the CLI needs (credentials). */
  env: Record<string, string>;
  /** Opens `url(root)` through the same URL parser and opener the CLI uses. */
  open(root: string): Promise<Storage>;
  stop(): Promise<void>;
}

/** One remote backend family and how to start its test server. */
export interface RemoteBackend {
  name: 'sftp' | 's3' | 'webdav';
  /** Why the server cannot run on this machine, or null when it can. */
  missing: string | null;
  start(): Promise<RemoteServer>;
}

const sshd = findSshd();
const rclone = hasRclone();

export const REMOTE_BACKENDS: RemoteBackend[] = [
  {
    name: 'sftp',
    missing: sshd ? null : 'sshd is missing: install the Debian package openssh-server',
    async start() {
      const server = await startSshd(sshd as string);
      const cliArgs = ['--sftp-key', server.privateKeyPath, '--sftp-host-key', server.hostPublicKey];
      const url = (root: string) =>
        `sftp://${server.username}@${server.host}:${server.port}${server.dataDir}/${root}`;
      return {
        url,
        cliArgs,
        env: {},
        open: (root) =>
          openStorage(
            parseLocationUrl(url(root), {
              env: {},
              sftpKeyPath: server.privateKeyPath,
              sftpHostKey: server.hostPublicKey,
            }),
            { env: {} },
          ),
        stop: () => server.stop(),
      };
    },
  },
  {
    name: 's3',
    // s3rver comes from the npm registry with the workspace's dependencies.
    missing: null,
    async start() {
      const server = await startS3Server();
      const env = { AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey };
      const url = (root: string) => `s3://${server.bucket}/${root}`;
      return {
        url,
        cliArgs: ['--s3-endpoint', server.endpoint],
        env,
        open: (root) =>
          openStorage(parseLocationUrl(url(root), { env: {}, s3Endpoint: server.endpoint }), { env }),
        stop: () => server.stop(),
      };
    },
  },
  {
    name: 'webdav',
    missing: rclone ? null : 'rclone is missing: install the Debian package rclone',
    async start() {
      const server = await startRcloneWebdav();
      const host = new URL(server.url).host;
      // The password travels in the environment, as a user would keep it out of the URL.
      const env = { SYNCENGINE_WEBDAV_PASSWORD: server.password };
      const url = (root: string) => `webdav://${server.username}@${host}/${root}`;
      return {
        url,
        cliArgs: [],
        env,
        open: (root) => openStorage(parseLocationUrl(url(root), { env })),
        stop: () => server.stop(),
      };
    },
  },
];
