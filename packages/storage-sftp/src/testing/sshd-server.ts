import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

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

/** A TCP port that was free a moment ago. */
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

/** Resolves once something accepts TCP connections on the port. */
export async function waitForPort(port: number, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited with code ${child.exitCode}`);
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

/** Stops a child process and waits for it to exit. */
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

/**
 * Starts sshd in the foreground (`-D`) on a spare port on 127.0.0.1 with a fresh host key
 * and a fresh client key authorised for the current user. Key authentication only.
 */
export async function startSshd(sshd: string): Promise<SshdServer> {
  const dir = mkdtempSync(join(tmpdir(), 'syncengine-sshd-'));
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
  const child = spawn(sshd, ['-D', '-e', '-f', join(dir, 'sshd_config')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  try {
    await waitForPort(port, child);
  } catch (error) {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`sshd did not start: ${String(error)}\n${stderr}`);
  }
  const hostPublicKey = readFileSync(join(dir, 'host_key.pub'), 'utf8')
    .trim()
    .split(/\s+/)
    .slice(0, 2)
    .join(' ');
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostPublicKey}\n`);
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
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
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

/** True when an `rclone` binary is on the PATH. */
export function hasRclone(): boolean {
  try {
    execFileSync('rclone', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Starts `rclone serve sftp` over a temporary folder, with password authentication. */
export async function startRcloneSftp(): Promise<RcloneSftpServer> {
  const dir = mkdtempSync(join(tmpdir(), 'syncengine-rclone-sftp-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  const port = await freePort();
  const username = 'sync';
  const password = 'pass with spaces & symbols!';
  const child = spawn(
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
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  try {
    await waitForPort(port, child);
  } catch (error) {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`rclone serve sftp did not start: ${String(error)}\n${stderr}`);
  }
  const hostPublicKey = readFileSync(join(dir, 'host_key.pub'), 'utf8')
    .trim()
    .split(/\s+/)
    .slice(0, 2)
    .join(' ');
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostPublicKey}\n`);
  return {
    host: '127.0.0.1',
    port,
    username,
    password,
    hostPublicKey,
    knownHostsPath: join(dir, 'known_hosts'),
    dataDir,
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
