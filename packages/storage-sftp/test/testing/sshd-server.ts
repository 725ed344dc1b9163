import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, makeTempDir, startServerProcess } from '@syncengine/engine/testing';

export { hasRclone } from '@syncengine/engine/testing';

/** A throwaway OpenSSH server on 127.0.0.1, for integration tests. */
export interface SshdServer {
  host: string;
  port: number;
  username: string;
  /** A private key the server accepts for `username`. */
  privateKey: string;
  privateKeyPath: string;
  /** The server's host key, `ssh-ed25519 AAAA…`. */
  hostPublicKey: string;
  /** A known_hosts file that trusts this server. */
  knownHostsPath: string;
  /** A folder on the server (same machine) to root storages in. */
  dataDir: string;
  stop(): Promise<void>;
}

const SSHD_CANDIDATES = ['/usr/sbin/sshd', '/usr/local/sbin/sshd', '/usr/bin/sshd'];

/** Path of the sshd binary, or null when OpenSSH's server is not installed. */
export function findSshd(): string | null {
  return SSHD_CANDIDATES.find((path) => existsSync(path)) ?? null;
}

/** Reads `dir/host_key.pub` (`ssh-ed25519 AAAA…`) and writes `dir/known_hosts` trusting it on `port`. */
function trustHostKey(dir: string, port: number): string {
  const hostPublicKey = readFileSync(join(dir, 'host_key.pub'), 'utf8')
    .trim()
    .split(/\s+/)
    .slice(0, 2)
    .join(' ');
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostPublicKey}\n`);
  return hostPublicKey;
}

/**
 * Starts sshd in the foreground (`-D`) on a spare port on 127.0.0.1 with a fresh host key
 * and a fresh client key authorised for the current user. Key authentication only.
 */
export async function startSshd(sshd: string): Promise<SshdServer> {
  const dir = makeTempDir('syncengine-sshd-');
  const keygen = (file: string): void => {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, file)]);
  };
  keygen('host_key');
  keygen('client_key');
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')));
  const port = await freePort();
  const username = userInfo().username;
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      `AllowUsers ${username}`,
      'Subsystem sftp internal-sftp',
      'MaxSessions 50',
      'MaxStartups 50',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  // sshd insists on its privilege separation folder when started as root.
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true });
  const server = await startServerProcess(sshd, ['-D', '-e', '-f', join(dir, 'sshd_config')], {
    name: 'sshd',
    port,
    dir,
  });
  const hostPublicKey = trustHostKey(dir, port);
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  return {
    host: '127.0.0.1',
    port,
    username,
    privateKey: readFileSync(join(dir, 'client_key'), 'utf8'),
    privateKeyPath: join(dir, 'client_key'),
    hostPublicKey,
    knownHostsPath: join(dir, 'known_hosts'),
    dataDir,
    stop: server.stop,
  };
}

/** `rclone serve sftp` on 127.0.0.1 with a user name and password, for integration tests. */
export interface RcloneSftpServer {
  host: string;
  port: number;
  username: string;
  password: string;
  /** The server's host key, `ssh-ed25519 AAAA…`. */
  hostPublicKey: string;
  knownHostsPath: string;
  /** The folder on disk that the server serves (its `/`). */
  dataDir: string;
  stop(): Promise<void>;
}

/** Starts `rclone serve sftp` over a temporary folder, with password authentication. */
export async function startRcloneSftp(): Promise<RcloneSftpServer> {
  const dir = makeTempDir('syncengine-rclone-sftp-');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  const port = await freePort();
  const username = 'sync';
  const password = 'pass with spaces & symbols!';
  const server = await startServerProcess(
    'rclone',
    [
      'serve',
      'sftp',
      dataDir,
      '--addr',
      `127.0.0.1:${port}`,
      '--user',
      username,
      '--pass',
      password,
      '--key',
      join(dir, 'host_key'),
      '--dir-cache-time',
      '0s',
      '--config',
      join(dir, 'rclone.conf'),
      '--log-level',
      'ERROR',
    ],
    { name: 'rclone serve sftp', port, dir },
  );
  const hostPublicKey = trustHostKey(dir, port);
  return {
    host: '127.0.0.1',
    port,
    username,
    password,
    hostPublicKey,
    knownHostsPath: join(dir, 'known_hosts'),
    dataDir,
    stop: server.stop,
  };
}
