import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { posix } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  abortIfNeeded,
  comparePaths,
  createHasher,
  DEFAULT_RETRY,
  type Entry,
  type HashAlgorithm,
  HashingPassThrough,
  type ListOptions,
  normalizeRelativePath,
  type RetryPolicy,
  type Storage,
  type StorageCapabilities,
  SyncError,
  tempPathFor,
  type WriteOptions,
  withRetry,
} from '@syncengine/engine';
import ssh2, { Client, type ConnectConfig, type SFTPWrapper, type Stats } from 'ssh2';
import { fingerprint, knownHostsName, lookupKnownHosts, parsePinnedHostKey } from './known-hosts.js';

/** Where and how to reach an SFTP server. */
export interface SftpStorageOptions {
  host: string;
  /** Default 22. */
  port?: number;
  username: string;
  password?: string;
  /** A private key (OpenSSH or PEM text). */
  privateKey?: string | Buffer;
  /** A private key file, read when connecting. */
  privateKeyPath?: string;
  passphrase?: string;
  /**
   * ssh-agent socket. Default: `SSH_AUTH_SOCK` where ambient credentials are allowed.
   * Without any credentials the agent and the default key files (`~/.ssh/id_ed25519`,
   * `id_ecdsa`, `id_rsa`) are tried, like `ssh`.
   */
  agent?: string;
  /**
   * Whether the identity of the user running this process may be used: `SSH_AUTH_SOCK`
   * and the key files in `~/.ssh`. Default true (the CLI acts as its user, like `ssh`); a
   * server acting for others turns it off, so a location cannot borrow the server's keys.
   */
  isAmbientIdentityAllowed?: boolean;
  /** Root folder on the server: absolute, or relative to the login folder. Default: the login folder. */
  root?: string;
  /** A pinned host key (`ssh-ed25519 AAAA…` or `SHA256:…`), checked instead of known_hosts. */
  hostKey?: string;
  /** known_hosts file to check the host key against. Default: `~/.ssh/known_hosts`. */
  knownHostsPath?: string;
  /** Connections kept open at most, shared by concurrent operations. Default 4. */
  connections?: number;
  retry?: Partial<RetryPolicy>;
  /** Connection and handshake timeout. Default 15 s. */
  connectTimeoutMs?: number;
  /** Environment for HOME and SSH_AUTH_SOCK. Default: `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Reads a private key file and checks that it holds a key (opened with `passphrase` when
 * encrypted). Every failure (missing, unreadable, a folder, not a key) gets the same
 * message, so the answer tells nothing about the files of the machine that reads it.
 */
export function readPrivateKeyFile(path: string, passphrase?: string): Buffer {
  let key: Buffer | null = null;
  try {
    key = readFileSync(path);
  } catch {
    // Reported below with the same words as a file that is no key.
  }
  if (key === null || ssh2.utils.parseKey(key, passphrase) instanceof Error) {
    throw new SyncError(
      'INVALID_CONFIG',
      `cannot use the SSH key file "${path}": it is missing, unreadable, or not a private key this passphrase opens`,
    );
  }
  return key;
}

/** SFTP status codes (draft-ietf-secsh-filexfer-02). */
const STATUS = {
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  NO_CONNECTION: 6,
  CONNECTION_LOST: 7,
  OP_UNSUPPORTED: 8,
} as const;

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

interface ErrorLike {
  code?: unknown;
  message?: string;
  level?: string;
}

function errorCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as ErrorLike).code : undefined;
}

/** True for failures of the connection itself rather than of the operation. */
function isConnectionError(error: unknown): boolean {
  const code = errorCode(error);
  if (code === STATUS.NO_CONNECTION || code === STATUS.CONNECTION_LOST) return true;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  const message = error instanceof Error ? error.message : String(error);
  return /No response from server|Not connected|Channel not open|connection lost|socket hang up|Timed out while waiting for handshake|write after end|ended|closed/i.test(
    message,
  );
}

/** Maps an ssh2/SFTP error to a `SyncError`. */
function mapError(error: unknown, action: string, path: string): SyncError {
  if (error instanceof SyncError) return error;
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  const text = `${action} "${path}": ${message}`;
  if (code === STATUS.NO_SUCH_FILE) return new SyncError('NOT_FOUND', text, { cause: error, path });
  if (code === STATUS.PERMISSION_DENIED) return new SyncError('PERMISSION', text, { cause: error, path });
  if (isConnectionError(error)) return new SyncError('TRANSIENT', text, { cause: error, path });
  return new SyncError('INTERNAL', text, { cause: error, path });
}

interface Session {
  client: Client;
  sftp: SFTPWrapper;
  busy: number;
  isAlive: boolean;
}

type SftpCall<T> = (sftp: SFTPWrapper, callback: (error: Error | undefined | null, value: T) => void) => void;

function quoteShell(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * A `Storage` on an SFTP server. Keeps a small pool of SSH connections (one SFTP channel
 * each) shared by concurrent operations; a dropped connection is replaced on the next
 * operation, and operations that failed because of it are retried with backoff.
 *
 * Writes go to a temporary name beside the target and are renamed into place (with the
 * OpenSSH `posix-rename` extension where offered, so the replacement is atomic). mtimes
 * are whole seconds. Hashes (md5, sha1) are computed on the server with `md5sum` /
 * `sha1sum` where it allows commands, otherwise by reading the file.
 */
export class SftpStorage implements Storage {
  readonly kind = 'sftp';
  readonly description: string;
  readonly capabilities: StorageCapabilities = {
    hashAlgorithms: ['md5', 'sha1'],
    hasListingHashes: false,
    mtimePrecisionMs: 1000,
    canSetMtime: true,
    caseSensitive: true,
    serverSideMove: true,
    serverSideCopy: false,
    stableIds: false,
    hasDirectories: true,
  };

  private readonly options: SftpStorageOptions;
  private readonly port: number;
  private readonly retry: RetryPolicy;
  private readonly maxSessions: number;
  private readonly sessions: Session[] = [];
  private connecting: Promise<Session> | null = null;
  private rootPath: string | null = null;
  private canExec = true;
  /**
   * Absolute paths of folders known to exist, so that writes into them skip the `lstat`
   * per level. Cleared whenever this storage removes or moves something that may be a
   * folder, and after a failed write.
   */
  private readonly knownDirs = new Set<string>();
  private isClosed = false;

  constructor(options: SftpStorageOptions) {
    this.options = options;
    this.port = options.port ?? 22;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.maxSessions = Math.max(1, options.connections ?? 4);
    const root = options.root ?? '.';
    const shown = root.startsWith('/') ? root : `/~/${root === '.' ? '' : root}`;
    this.description = `sftp://${options.username}@${options.host}${this.port === 22 ? '' : `:${this.port}`}${shown}`;
  }

  // --- connections -------------------------------------------------------------------

  private env(): NodeJS.ProcessEnv {
    return this.options.env ?? process.env;
  }

  /** The host-key check: a pinned key, or known_hosts. Sets `failure` to say why a key was refused. */
  private hostCheck(): { verify: (key: Buffer) => boolean; algorithms?: string[]; failure: () => string } {
    const { host } = this.options;
    let failure = 'the host key was refused';
    if (this.options.hostKey) {
      const pinned = parsePinnedHostKey(this.options.hostKey);
      return {
        algorithms: 'algorithm' in pinned ? [pinned.algorithm] : undefined,
        verify: (key) => {
          const ok = 'key' in pinned ? pinned.key.equals(key) : fingerprint(key) === pinned.fingerprint;
          if (!ok) {
            failure = `the host key of ${host} (${fingerprint(key)}) does not match the pinned host key: refusing to connect (it may have been replaced, or someone may be intercepting the connection)`;
          }
          return ok;
        },
        failure: () => failure,
      };
    }
    const path = this.options.knownHostsPath ?? posix.join(this.env().HOME ?? homedir(), '.ssh/known_hosts');
    const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
    const { keys, revoked } = lookupKnownHosts(text, host, this.port);
    const trust =
      this.port === 22 ? `ssh-keyscan ${host} >> ${path}` : `ssh-keyscan -p ${this.port} ${host} >> ${path}`;
    const algorithms = [...new Set(keys.map((key) => key.algorithm))];
    return {
      // Offer only the key types known_hosts holds, as ssh does, so the server presents one we can check.
      algorithms: algorithms.length > 0 ? algorithms : undefined,
      verify: (key) => {
        if (revoked.some((entry) => entry.key.equals(key))) {
          failure = `the host key of ${host} (${fingerprint(key)}) is marked @revoked in ${path}`;
          return false;
        }
        if (keys.some((entry) => entry.key.equals(key))) return true;
        failure =
          keys.length === 0
            ? `the host ${knownHostsName(host, this.port)} is not in ${path} (its key is ${fingerprint(key)}). If you trust it, add it with: ${trust}`
            : `the host key of ${knownHostsName(host, this.port)} (${fingerprint(key)}) does not match the one in ${path}: refusing to connect (it may have been replaced, or someone may be intercepting the connection)`;
        return false;
      },
      failure: () => failure,
    };
  }

  private authConfig(): Partial<ConnectConfig> {
    const { password, privateKey, privateKeyPath, passphrase } = this.options;
    const config: Partial<ConnectConfig> = {};
    if (password !== undefined) config.password = password;
    if (passphrase !== undefined) config.passphrase = passphrase;
    if (privateKey !== undefined) {
      config.privateKey = privateKey;
    } else if (privateKeyPath !== undefined) {
      config.privateKey = readPrivateKeyFile(privateKeyPath, passphrase);
    }
    const isAmbientAllowed = this.options.isAmbientIdentityAllowed ?? true;
    const agent = this.options.agent ?? (isAmbientAllowed ? this.env().SSH_AUTH_SOCK : undefined);
    if (agent) config.agent = agent;
    if (!isAmbientAllowed && config.password === undefined && config.privateKey === undefined && !agent) {
      throw new SyncError(
        'INVALID_CONFIG',
        `${this.description}: no credentials: give a password, a private key or a key file (this process's own SSH keys and agent are not used)`,
      );
    }
    if (isAmbientAllowed && config.password === undefined && config.privateKey === undefined) {
      // Like ssh: fall back to the default key files.
      const home = this.env().HOME ?? homedir();
      for (const name of ['id_ed25519', 'id_ecdsa', 'id_rsa']) {
        const path = posix.join(home, '.ssh', name);
        if (existsSync(path)) {
          config.privateKey = readFileSync(path);
          break;
        }
      }
    }
    return config;
  }

  private connect(): Promise<Session> {
    const check = this.hostCheck();
    const auth = this.authConfig();
    return new Promise<Session>((resolve, reject) => {
      const client = new Client();
      let settled = false;
      const fail = (error: unknown): void => {
        if (settled) return;
        settled = true;
        client.end();
        const level = typeof error === 'object' && error !== null ? (error as ErrorLike).level : undefined;
        const message = error instanceof Error ? error.message : String(error);
        if (/verification failed/i.test(message)) {
          reject(new SyncError('PERMISSION', `${this.description}: ${check.failure()}`, { cause: error }));
        } else if (level === 'client-authentication') {
          reject(
            new SyncError(
              'PERMISSION',
              `${this.description}: authentication failed for ${this.options.username} (tried: ${
                [
                  auth.password !== undefined ? 'password' : null,
                  auth.privateKey !== undefined ? 'private key' : null,
                  auth.agent ? 'ssh-agent' : null,
                ]
                  .filter(Boolean)
                  .join(', ') || 'no credentials'
              })`,
              { cause: error },
            ),
          );
        } else if (level === 'client-socket' || level === 'client-timeout' || isConnectionError(error)) {
          reject(
            new SyncError('TRANSIENT', `${this.description}: cannot connect: ${message}`, { cause: error }),
          );
        } else {
          reject(new SyncError('INTERNAL', `${this.description}: ${message}`, { cause: error }));
        }
      };
      client.on('error', fail);
      client.on('ready', () => {
        client.sftp((error, sftp) => {
          if (error) {
            fail(error);
            return;
          }
          settled = true;
          const session: Session = { client, sftp, busy: 0, isAlive: true };
          const drop = (): void => {
            session.isAlive = false;
            const at = this.sessions.indexOf(session);
            if (at !== -1) this.sessions.splice(at, 1);
          };
          client.on('close', drop);
          client.on('end', drop);
          sftp.on('close', () => {
            drop();
            client.end();
          });
          resolve(session);
        });
      });
      const config: ConnectConfig = {
        host: this.options.host,
        port: this.port,
        username: this.options.username,
        readyTimeout: this.options.connectTimeoutMs ?? 15_000,
        keepaliveInterval: 15_000,
        keepaliveCountMax: 3,
        hostVerifier: check.verify,
        ...auth,
      };
      if (check.algorithms) {
        config.algorithms = {
          serverHostKey: check.algorithms as NonNullable<
            NonNullable<ConnectConfig['algorithms']>['serverHostKey']
          >,
        };
      }
      try {
        client.connect(config);
      } catch (error) {
        fail(error);
      }
    });
  }

  /** A live session, opening a new connection while all are busy and the pool has room. */
  private async acquire(): Promise<Session> {
    if (this.isClosed) throw new SyncError('INTERNAL', `${this.description} is closed`);
    const alive = this.sessions.filter((session) => session.isAlive);
    const idle = alive.find((session) => session.busy === 0);
    if (idle) return idle;
    if (alive.length < this.maxSessions && this.connecting === null) {
      this.connecting = this.connect()
        .then((session) => {
          this.sessions.push(session);
          return session;
        })
        .finally(() => {
          this.connecting = null;
        });
      if (alive.length === 0) return this.connecting;
      // Others are busy but usable: keep the new connection for later, don't wait for it.
      this.connecting.catch(() => undefined);
    }
    if (alive.length === 0) {
      if (this.connecting) return this.connecting;
      throw new SyncError('TRANSIENT', `${this.description}: no connection`);
    }
    return alive.reduce((best, session) => (session.busy < best.busy ? session : best));
  }

  /** Runs `work` on a session; connection failures become TRANSIENT and retire the session. */
  private async withSession<T>(work: (session: Session) => Promise<T>): Promise<T> {
    const session = await this.acquire();
    session.busy++;
    try {
      return await work(session);
    } catch (error) {
      if (isConnectionError(error) || !session.isAlive) {
        session.isAlive = false;
        session.client.end();
      }
      throw error;
    } finally {
      session.busy--;
    }
  }

  private call<T>(session: Session, operation: SftpCall<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      try {
        operation(session.sftp, (error, value) => (error ? reject(error) : resolve(value)));
      } catch (error) {
        reject(error);
      }
    });
  }

  /** One retried SFTP operation; errors mapped for `action` on `path`. */
  private run<T>(action: string, path: string, work: (session: Session) => Promise<T>): Promise<T> {
    return withRetry(`${this.description}: ${action} "${path}"`, this.retry, async () => {
      try {
        return await this.withSession(work);
      } catch (error) {
        throw mapError(error, action, path);
      }
    });
  }

  private async root(): Promise<string> {
    if (this.rootPath !== null) return this.rootPath;
    const root = this.options.root ?? '.';
    if (root.startsWith('/')) {
      this.rootPath = posix.normalize(root).replace(/(.)\/$/, '$1');
    } else {
      const home = await this.run('resolve the login folder of', '.', (session) =>
        this.call<string>(session, (sftp, done) => sftp.realpath('.', done)),
      );
      this.rootPath = posix.join(home, root).replace(/(.)\/$/, '$1');
    }
    return this.rootPath;
  }

  /** Absolute server path of a relative path (checked: never above the root). */
  private async full(path: string): Promise<string> {
    const rel = normalizeRelativePath(path, { allowRoot: true });
    const root = await this.root();
    return rel === '' ? root : posix.join(root, rel);
  }

  // --- helpers -----------------------------------------------------------------------

  private lstat(session: Session, full: string): Promise<Stats | null> {
    return this.call<Stats>(session, (sftp, done) => sftp.lstat(full, done)).catch((error: unknown) => {
      if (errorCode(error) === STATUS.NO_SUCH_FILE) return null;
      throw error;
    });
  }

  private toEntry(path: string, stats: Stats): Entry {
    const isDir = stats.isDirectory();
    return { path, size: isDir ? 0 : stats.size, mtime: stats.mtime * 1000, isDir };
  }

  /** `mkdir -p` of an absolute server path; a file in the way is a CONFLICT. */
  private async mkdirs(session: Session, full: string, rel: string): Promise<void> {
    if (this.knownDirs.has(full)) return;
    await this.createDirs(session, full, rel);
    this.knownDirs.add(full);
  }

  private async createDirs(session: Session, full: string, rel: string): Promise<void> {
    const existing = await this.lstat(session, full);
    if (existing) {
      if (existing.isDirectory()) return;
      throw new SyncError('CONFLICT', `cannot create directory "${rel}": a file is there`, { path: rel });
    }
    const parent = posix.dirname(full);
    if (parent !== full) await this.mkdirs(session, parent, posix.dirname(rel));
    try {
      await this.call<void>(session, (sftp, done) => sftp.mkdir(full, (error) => done(error, undefined)));
    } catch (error) {
      // Created meanwhile by a concurrent operation: fine.
      const now = await this.lstat(session, full);
      if (now?.isDirectory()) return;
      if (now)
        throw new SyncError('CONFLICT', `cannot create directory "${rel}": a file is there`, { path: rel });
      throw error;
    }
  }

  private async ensureParent(session: Session, full: string, rel: string): Promise<void> {
    const parent = posix.dirname(full);
    const root = await this.root();
    if (parent.length >= root.length) await this.mkdirs(session, parent, posix.dirname(rel));
  }

  // --- Storage -----------------------------------------------------------------------

  async *list(options: ListOptions = {}): AsyncIterable<Entry> {
    const root = await this.root();
    const rootStats = await this.run('list', '', (session) => this.lstat(session, root));
    // A missing root is an empty location: it is created by the first write.
    if (!rootStats) return;
    if (!rootStats.isDirectory()) {
      throw new SyncError('CONFLICT', `${this.description} is a file, not a folder`);
    }
    yield* this.listDir('', root, options);
  }

  private async *listDir(rel: string, full: string, options: ListOptions): AsyncGenerator<Entry> {
    abortIfNeeded(options.signal);
    let names: { filename: string; attrs: Stats }[];
    try {
      names = await this.run('list', rel, (session) =>
        this.call(session, (sftp, done) => sftp.readdir(full, done)),
      );
    } catch (error) {
      // Removed while listing: nothing below it any more.
      if (error instanceof SyncError && error.code === 'NOT_FOUND' && rel !== '') return;
      throw error;
    }
    const children = names
      .filter((item) => item.filename !== '.' && item.filename !== '..')
      // Symlinks and special files are not followed or synced.
      .filter((item) => item.attrs.isDirectory() || item.attrs.isFile())
      .map((item) => ({
        ...item,
        path: (rel === '' ? item.filename : `${rel}/${item.filename}`).normalize('NFC'),
      }))
      .sort((a, b) => comparePaths(a.path, b.path));
    for (const child of children) {
      if (child.filename.includes('/') || child.filename.includes('\0')) continue;
      const isDir = child.attrs.isDirectory();
      if (options.include && !options.include(child.path, isDir)) continue;
      yield this.toEntry(child.path, child.attrs);
      if (isDir) yield* this.listDir(child.path, posix.join(full, child.filename), options);
    }
  }

  async stat(path: string): Promise<Entry | null> {
    const rel = normalizeRelativePath(path);
    const full = await this.full(rel);
    const stats = await this.run('stat', rel, (session) => this.lstat(session, full));
    if (!stats || !(stats.isDirectory() || stats.isFile())) return null;
    return this.toEntry(rel, stats);
  }

  async read(path: string, options?: { signal?: AbortSignal }): Promise<Readable> {
    const rel = normalizeRelativePath(path);
    const full = await this.full(rel);
    abortIfNeeded(options?.signal);
    return this.run('read', rel, async (session) => {
      const stats = await this.lstat(session, full);
      if (!stats) throw new SyncError('NOT_FOUND', `"${rel}" does not exist`, { path: rel });
      if (stats.isDirectory()) throw new SyncError('CONFLICT', `"${rel}" is a directory`, { path: rel });
      const stream = session.sftp.createReadStream(full);
      session.busy++;
      stream.once('close', () => {
        session.busy--;
      });
      // Surface errors of the running stream as SyncErrors too.
      const mapped = new Transform({
        transform(chunk, _encoding, callback) {
          callback(null, chunk);
        },
      });
      stream.on('error', (error: unknown) => mapped.destroy(mapError(error, 'read', rel)));
      options?.signal?.addEventListener('abort', () =>
        mapped.destroy(new SyncError('CANCELLED', 'the operation was cancelled')),
      );
      return stream.pipe(mapped);
    });
  }

  async write(
    path: string,
    data: Readable | AsyncIterable<Uint8Array>,
    options: WriteOptions = {},
  ): Promise<Entry> {
    const rel = normalizeRelativePath(path);
    const full = await this.full(rel);
    const temp = await this.full(tempPathFor(rel));
    // The data stream can be consumed once, so the upload itself is not retried; the checks
    // before it are, which also replaces a connection that dropped since the last operation.
    const session = await this.run('write', rel, async (candidate) => {
      const existing = await this.lstat(candidate, full);
      if (existing?.isDirectory()) throw new SyncError('CONFLICT', `"${rel}" is a directory`, { path: rel });
      await this.ensureParent(candidate, full, rel);
      return candidate;
    });
    session.busy++;
    try {
      const counter = new HashingPassThrough([], { signal: options.signal });
      const target = session.sftp.createWriteStream(temp, { flags: 'w' });
      const targetClosed = new Promise<void>((resolve) => {
        target.once('close', () => resolve());
      });
      try {
        await pipeline(data, counter, target);
        if (options.size !== undefined && counter.bytes !== options.size) {
          throw new SyncError(
            'CHANGED_DURING_TRANSFER',
            `"${rel}": expected ${options.size} bytes, received ${counter.bytes}`,
            { path: rel },
          );
        }
        if (options.mtime !== undefined) {
          const seconds = Math.floor(options.mtime / 1000);
          await this.call<void>(session, (sftp, done) =>
            sftp.utimes(temp, seconds, seconds, (error) => done(error, undefined)),
          );
        }
        await this.replace(session, temp, full);
      } catch (error) {
        this.knownDirs.clear();
        if (session.isAlive) {
          // Some servers (rclone) create the file when its handle closes, so wait for the
          // close, then remove the temporary file until it stays gone.
          target.destroy();
          await Promise.race([targetClosed, new Promise((resolve) => setTimeout(resolve, 2_000))]);
          for (let attempt = 0; attempt < 5; attempt++) {
            await this.call<void>(session, (sftp, done) =>
              sftp.unlink(temp, (e) => done(e, undefined)),
            ).catch(() => undefined);
            await new Promise((resolve) => setTimeout(resolve, 20 * (attempt + 1)));
            const left = await this.lstat(session, temp).catch(() => null);
            if (!left && attempt >= 1) break;
          }
        }
        throw error;
      }
      // With an mtime given, the stored entry is known without asking (whole seconds).
      if (options.mtime !== undefined) {
        return {
          path: rel,
          size: counter.bytes,
          mtime: Math.floor(options.mtime / 1000) * 1000,
          isDir: false,
        };
      }
      const stats = await this.lstat(session, full);
      if (!stats)
        throw new SyncError('TRANSIENT', `"${rel}" vanished right after it was written`, { path: rel });
      return this.toEntry(rel, stats);
    } catch (error) {
      if (isConnectionError(error)) {
        session.isAlive = false;
        session.client.end();
      }
      throw mapError(error, 'write', rel);
    } finally {
      session.busy--;
    }
  }

  /** Renames `temp` over `full`, atomically where the server offers posix-rename. */
  private async replace(session: Session, temp: string, full: string): Promise<void> {
    try {
      await this.call<void>(session, (sftp, done) =>
        sftp.ext_openssh_rename(temp, full, (e) => done(e, undefined)),
      );
      return;
    } catch (error) {
      if (isConnectionError(error)) throw error;
      // Extension not offered: plain rename, which fails when the target exists.
    }
    const existing = await this.lstat(session, full);
    if (!existing) {
      await this.call<void>(session, (sftp, done) => sftp.rename(temp, full, (e) => done(e, undefined)));
      return;
    }
    const aside = `${temp}.old`;
    await this.call<void>(session, (sftp, done) => sftp.rename(full, aside, (e) => done(e, undefined)));
    try {
      await this.call<void>(session, (sftp, done) => sftp.rename(temp, full, (e) => done(e, undefined)));
    } catch (error) {
      await this.call<void>(session, (sftp, done) =>
        sftp.rename(aside, full, (e) => done(e, undefined)),
      ).catch(() => undefined);
      throw error;
    }
    await this.call<void>(session, (sftp, done) => sftp.unlink(aside, (e) => done(e, undefined))).catch(
      () => undefined,
    );
  }

  async delete(path: string): Promise<void> {
    const rel = normalizeRelativePath(path);
    const full = await this.full(rel);
    await this.run('delete', rel, async (session) => {
      const stats = await this.lstat(session, full);
      if (!stats) return;
      if (stats.isDirectory()) this.knownDirs.clear();
      try {
        if (stats.isDirectory()) {
          await this.call<void>(session, (sftp, done) => sftp.rmdir(full, (e) => done(e, undefined)));
        } else {
          await this.call<void>(session, (sftp, done) => sftp.unlink(full, (e) => done(e, undefined)));
        }
      } catch (error) {
        const code = errorCode(error);
        if (code === STATUS.NO_SUCH_FILE) return;
        if (code === STATUS.FAILURE && stats.isDirectory()) {
          throw new SyncError('CONFLICT', `directory "${rel}" is not empty`, { cause: error, path: rel });
        }
        throw error;
      }
    });
  }

  async rename(from: string, to: string): Promise<void> {
    const source = normalizeRelativePath(from);
    const target = normalizeRelativePath(to);
    if (source === target) return;
    if (target.startsWith(`${source}/`)) {
      throw new SyncError('CONFLICT', `cannot move "${source}" into itself`, { path: target });
    }
    const fullFrom = await this.full(source);
    const fullTo = await this.full(target);
    await this.run('rename', source, async (session) => {
      const stats = await this.lstat(session, fullFrom);
      if (!stats) {
        // Retried after a dropped connection that had already carried out the rename?
        if (await this.lstat(session, fullTo)) return;
        throw new SyncError('NOT_FOUND', `"${source}" does not exist`, { path: source });
      }
      if (await this.lstat(session, fullTo)) {
        throw new SyncError('CONFLICT', `cannot rename "${source}": "${target}" already exists`, {
          path: target,
        });
      }
      await this.ensureParent(session, fullTo, target);
      this.knownDirs.clear();
      await this.call<void>(session, (sftp, done) =>
        sftp.rename(fullFrom, fullTo, (e) => done(e, undefined)),
      );
    });
  }

  async mkdir(path: string): Promise<void> {
    const rel = normalizeRelativePath(path);
    const full = await this.full(rel);
    await this.run('create directory', rel, (session) => this.mkdirs(session, full, rel));
  }

  async setMtime(path: string, mtime: number): Promise<void> {
    const rel = normalizeRelativePath(path);
    const full = await this.full(rel);
    const seconds = Math.floor(mtime / 1000);
    await this.run('set the mtime of', rel, (session) =>
      this.call<void>(session, (sftp, done) =>
        sftp.utimes(full, seconds, seconds, (e) => done(e, undefined)),
      ),
    );
  }

  async hash(path: string, algorithm: HashAlgorithm, options?: { signal?: AbortSignal }): Promise<string> {
    const rel = normalizeRelativePath(path);
    if (algorithm !== 'md5' && algorithm !== 'sha1') {
      throw new SyncError('HASH_UNAVAILABLE', `${this.description} does not offer "${algorithm}" hashes`, {
        path: rel,
      });
    }
    const full = await this.full(rel);
    const remoteAlgorithm: 'md5' | 'sha1' = algorithm === 'md5' ? 'md5' : 'sha1';
    if (this.canExec) {
      const remote = await this.run('hash', rel, (session) =>
        this.remoteHash(session, full, remoteAlgorithm),
      ).catch((error: unknown) => {
        if (error instanceof SyncError && error.code === 'TRANSIENT') throw error;
        return null;
      });
      if (remote !== null) return remote;
    }
    // No command execution on this server: read the file and hash it here.
    const stream = await this.read(rel, options);
    const hasher = createHasher(algorithm);
    for await (const chunk of stream) hasher.update(chunk as Buffer);
    return hasher.digest();
  }

  /** `md5sum`/`sha1sum` on the server; null (and never tried again) when the server runs no commands. */
  private remoteHash(session: Session, full: string, algorithm: 'md5' | 'sha1'): Promise<string | null> {
    const command = `${algorithm}sum ${quoteShell(full)}`;
    return new Promise<string | null>((resolve, reject) => {
      session.client.exec(command, (error, channel) => {
        if (error) {
          if (isConnectionError(error)) reject(error);
          else {
            this.canExec = false;
            resolve(null);
          }
          return;
        }
        let out = '';
        channel.on('data', (chunk: Buffer) => {
          out += chunk.toString('utf8');
        });
        channel.stderr.on('data', () => undefined);
        channel.on('close', (code: number | null) => {
          const match = /^\\?([0-9a-f]{32,40})\s/i.exec(out);
          const expected = algorithm === 'md5' ? 32 : 40;
          if (code === 0 && match?.[1]?.length === expected) {
            resolve(match[1].toLowerCase());
          } else {
            // A missing file also lands here: the caller's fallback read reports NOT_FOUND.
            if (code === 127 || code === null) this.canExec = false;
            resolve(null);
          }
        });
      });
    });
  }

  /** Ends every connection abruptly, as a network failure would. For tests of reconnection. */
  dropConnections(): void {
    for (const session of this.sessions) {
      const socket = (session.client as unknown as { _sock?: { destroy(): void } })._sock;
      socket?.destroy();
    }
  }

  async close(): Promise<void> {
    this.isClosed = true;
    for (const session of this.sessions.splice(0)) {
      session.isAlive = false;
      session.client.end();
    }
  }
}

/** SHA-256 fingerprint of a public key in known_hosts form (`ssh-ed25519 AAAA…`). */
export function hostKeyFingerprint(publicKey: string): string {
  const blob = publicKey.trim().split(/\s+/)[1] ?? '';
  return `SHA256:${createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64').replace(/=+$/, '')}`;
}
