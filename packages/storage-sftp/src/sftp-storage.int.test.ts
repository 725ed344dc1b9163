import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { isSyncError } from '@syncengine/engine';
import { describeStorageContract } from '@syncengine/engine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSshd, type SshdServer, startSshd } from '../test/testing/sshd-server.js';
import { SftpStorage, type SftpStorageOptions } from './sftp-storage.js';

const sshd = findSshd();
if (!sshd && process.env.REQUIRE_SERVICES === '1') {
  throw new Error('REQUIRE_SERVICES=1 but sshd is missing: install Debian package openssh-server');
}

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

let shared: Promise<SshdServer> | undefined;
/** One sshd for the whole file, started on first use. */
function sharedServer(): Promise<SshdServer> {
  shared ??= startSshd(sshd!);
  return shared;
}
afterAll(async () => {
  if (shared) await (await shared).stop();
});

let contractRoots = 0;
if (sshd) {
  describeStorageContract(
    'SftpStorage (OpenSSH)',
    async () => {
      const server = await sharedServer();
      contractRoots += 1;
      const storage = new SftpStorage({
        host: server.host,
        port: server.port,
        username: server.username,
        privateKey: server.privateKey,
        knownHostsPath: server.knownHostsPath,
        root: join(server.dataDir, `contract-${contractRoots}`),
        agent: '',
        retry: { attempts: 4, baseDelayMs: 20, maxDelayMs: 100 },
      });
      return { storage, cleanup: async () => undefined };
    },
    {
      largeTreeSize: 600,
      dropConnection: async (storage) => {
        (storage as SftpStorage).dropConnections();
      },
    },
  );
}

describe.skipIf(!sshd)('SftpStorage against OpenSSH', () => {
  let server: SshdServer;
  let counter = 0;
  const opened: SftpStorage[] = [];

  function options(overrides: Partial<SftpStorageOptions> = {}): SftpStorageOptions {
    counter += 1;
    const root = join(server.dataDir, `root-${counter}`);
    return {
      host: server.host,
      port: server.port,
      username: server.username,
      privateKey: server.privateKey,
      knownHostsPath: server.knownHostsPath,
      root,
      retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 50 },
      agent: '',
      ...overrides,
    };
  }
  function open(overrides: Partial<SftpStorageOptions> = {}): SftpStorage {
    const storage = new SftpStorage(options(overrides));
    opened.push(storage);
    return storage;
  }

  beforeAll(async () => {
    server = await sharedServer();
  });
  afterAll(async () => {
    await Promise.all(opened.map((storage) => storage.close()));
  });

  it('writes atomically, lists, reads back, renames and deletes on the server', async () => {
    const storage = open();
    const entry = await storage.write('docs/é.txt', Readable.from([Buffer.from('hello')]), {
      mtime: 1_700_000_000_500,
      size: 5,
    });
    expect(entry).toMatchObject({ path: 'docs/é.txt', size: 5, isDir: false, mtime: 1_700_000_000_000 });
    const root = (storage as unknown as { rootPath: string }).rootPath;
    expect(readFileSync(join(root, 'docs/é.txt'), 'utf8')).toBe('hello');

    const listed = [];
    for await (const item of storage.list()) listed.push(item.path);
    expect(listed).toEqual(['docs', 'docs/é.txt']);

    expect(await text(await storage.read('docs/é.txt'))).toBe('hello');
    await storage.rename('docs/é.txt', 'other/moved.txt');
    expect(await storage.stat('docs/é.txt')).toBeNull();
    expect(readFileSync(join(root, 'other/moved.txt'), 'utf8')).toBe('hello');
    await storage.delete('other/moved.txt');
    expect(await storage.stat('other/moved.txt')).toBeNull();
  });

  it('hashes on the server with md5sum', async () => {
    const storage = open();
    await storage.write('a.bin', Readable.from([Buffer.from('abc')]));
    expect(await storage.hash('a.bin', 'md5')).toBe('900150983cd24fb0d6963f7d28e17f72');
    expect(await storage.hash('a.bin', 'sha1')).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
  });

  it('refuses an unknown host and says how to trust it', async () => {
    const empty = join(server.dataDir, 'empty_known_hosts');
    writeFileSync(empty, '');
    const storage = open({ knownHostsPath: empty });
    const error = await storage.stat('x').catch((e: unknown) => e);
    expect(isSyncError(error, 'PERMISSION')).toBe(true);
    expect((error as Error).message).toContain(`ssh-keyscan -p ${server.port} 127.0.0.1 >> ${empty}`);
  });

  it('refuses a host whose key differs from the pinned one', async () => {
    const storage = open({
      hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHvMM7ebVaVnbsJdJDzQ7yKbWGWnTp58k0b1Gj3zb1Qv',
    });
    const error = await storage.stat('x').catch((e: unknown) => e);
    expect(isSyncError(error, 'PERMISSION')).toBe(true);
    expect((error as Error).message).toMatch(/does not match the pinned host key/);
  });

  it('accepts a host whose key matches the pinned one, without known_hosts', async () => {
    const storage = open({ hostKey: server.hostPublicKey, knownHostsPath: '/nonexistent' });
    expect(await storage.stat('nothing')).toBeNull();
  });

  it('logs in with a key held by ssh-agent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syncengine-agent-'));
    const socket = join(dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 50 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
      execFileSync('ssh-add', [server.privateKeyPath], {
        env: { ...process.env, SSH_AUTH_SOCK: socket },
        stdio: 'ignore',
      });
      const storage = open({ privateKey: undefined, agent: socket, env: { HOME: '/nonexistent' } });
      await storage.write('via-agent.txt', Readable.from([Buffer.from('agent')]));
      expect(await storage.stat('via-agent.txt')).toMatchObject({ size: 5 });
    } finally {
      agent.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("uses neither the agent nor the ~/.ssh keys of the process's account when ambient identity is off", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syncengine-ambient-'));
    const socket = join(dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    try {
      mkdirSync(join(dir, '.ssh'));
      writeFileSync(join(dir, '.ssh', 'id_ed25519'), server.privateKey, { mode: 0o600 });
      for (let i = 0; i < 50 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
      execFileSync('ssh-add', [server.privateKeyPath], {
        env: { ...process.env, SSH_AUTH_SOCK: socket },
        stdio: 'ignore',
      });
      const env = { HOME: dir, SSH_AUTH_SOCK: socket };
      const refused = open({ privateKey: undefined, agent: undefined, env, isAmbientIdentityAllowed: false });
      const error = await refused.stat('x').catch((caught: unknown) => caught);
      expect(isSyncError(error, 'INVALID_CONFIG')).toBe(true);
      expect((error as Error).message).toMatch(
        /no credentials: give a password, a private key or a key file/,
      );
      // The same location may borrow them where that is allowed (the CLI, acting as its user).
      const allowed = open({ privateKey: undefined, agent: undefined, env });
      expect(await allowed.stat('x')).toBeNull();
    } finally {
      agent.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reconnects after the connection drops', async () => {
    const storage = open();
    await storage.write('keep.txt', Readable.from([Buffer.from('1')]));
    storage.dropConnections();
    expect(await storage.stat('keep.txt')).toMatchObject({ size: 1 });
  });

  it('gives a clear TRANSIENT error once the retry budget is spent', async () => {
    const storage = open({ port: 1, retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 10 } });
    const error = await storage.stat('x').catch((e: unknown) => e);
    expect(isSyncError(error, 'TRANSIENT')).toBe(true);
    expect((error as Error).message).toMatch(/failed after 2 attempts/);
  });

  it('sees files created on the server directly', async () => {
    const storage = open();
    const rootPath = join(server.dataDir, `root-${counter}`);
    mkdirSync(join(rootPath, 'sub'), { recursive: true });
    writeFileSync(join(rootPath, 'sub/x.txt'), 'xyz');
    expect(await storage.stat('sub/x.txt')).toMatchObject({ size: 3, isDir: false });
  });
});
