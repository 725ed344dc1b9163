import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ssh2 from 'ssh2';
import { afterAll, describe, expect, it } from 'vitest';
import { readPrivateKeyFile } from './sftp-storage.js';

/**
 * What reading a key file that exists but cannot be read answers. Root reads every file,
 * so as root the read runs in a child process as `nobody`.
 */
function unreadableKeyMessage(): string {
  const path = join(dir, 'unreadable');
  writeFileSync(path, privateKey);
  chmodSync(path, 0o000);
  const module = fileURLToPath(new URL('./sftp-storage.ts', import.meta.url));
  const script = `import { readPrivateKeyFile } from ${JSON.stringify(module)};
try { readPrivateKeyFile(${JSON.stringify(path)}); console.log('read'); } catch (error) { console.log(error.message); }`;
  const asNobody =
    process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
  const [command, ...args] = [
    ...asNobody,
    process.execPath,
    '--conditions=source',
    '--import',
    'tsx',
    '--input-type=module',
    '-e',
    script,
  ];
  return execFileSync(command!, args, {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    encoding: 'utf8',
  }).trim();
}

const dir = mkdtempSync(join(tmpdir(), 'syncengine-keys-'));
chmodSync(dir, 0o755);
const { private: privateKey } = ssh2.utils.generateKeyPairSync('ed25519');

describe('readPrivateKeyFile', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const encrypted = ssh2.utils.generateKeyPairSync('ed25519', {
    passphrase: 'open sesame',
    cipher: 'aes256-ctr',
    rounds: 16,
  });
  writeFileSync(join(dir, 'key'), privateKey);
  writeFileSync(join(dir, 'encrypted'), encrypted.private);
  writeFileSync(join(dir, 'passwd'), 'root:x:0:0:root:/root:/bin/bash\n');

  it('returns the key of a key file, opening an encrypted one with its passphrase', () => {
    expect(readPrivateKeyFile(join(dir, 'key')).toString()).toBe(privateKey);
    expect(readPrivateKeyFile(join(dir, 'encrypted'), 'open sesame').toString()).toBe(encrypted.private);
  });

  it('answers a missing file, a folder, a file that is no key and a wrong passphrase with the same words', () => {
    const messageFor = (path: string, passphrase?: string) => {
      try {
        readPrivateKeyFile(path, passphrase);
      } catch (error) {
        return (error as Error).message.replace(path, 'PATH');
      }
      throw new Error(`${path} was accepted`);
    };
    const messages = [
      messageFor(join(dir, 'missing')),
      unreadableKeyMessage().replace(join(dir, 'unreadable'), 'PATH'),
      messageFor(dir),
      messageFor(join(dir, 'passwd')),
      messageFor(join(dir, 'encrypted'), 'wrong'),
    ];
    expect(new Set(messages).size).toBe(1);
    expect(messages[0]).toBe(
      'cannot use the SSH key file "PATH": it is missing, unreadable, or not a private key this passphrase opens',
    );
  });
});
