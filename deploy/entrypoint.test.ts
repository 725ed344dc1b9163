import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const entrypoint = join(dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'image-entrypoint.sh');
// The entry point switches users, which only root can: the images start it as root.
const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

describe.skipIf(!isRoot)('the images’ entry point (scripts/image-entrypoint.sh), run as root', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'syncengine-entrypoint-'));
    chmodSync(dir, 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (env: Record<string, string>) =>
    spawnSync('sh', [entrypoint, 'sh', '-c', 'echo "$(id -u):$(id -g)"'], {
      env: { PATH: process.env.PATH ?? '', PUID: String(NOBODY), PGID: String(NOBODY), ...env },
      encoding: 'utf8',
    });

  it('runs the command as PUID:PGID when it can write every allowed root', () => {
    const root = join(dir, 'writable');
    mkdirSync(root);
    chmodSync(root, 0o777);
    const result = run({ SYNCENGINE_ALLOWED_ROOTS: root });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`${NOBODY}:${NOBODY}\n`);
  });

  it('hands an empty folder owned by root (what Docker creates for a missing host folder) and the data folder to PUID:PGID', () => {
    const root = join(dir, 'created-by-docker');
    const data = join(dir, 'data');
    mkdirSync(root);
    const result = run({
      SYNCENGINE_ALLOWED_ROOTS: `${root}:${join(dir, 'absent')}`,
      SYNCENGINE_DATA_DIR: data,
    });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`${NOBODY}:${NOBODY}\n`);
    for (const folder of [root, data]) {
      expect({ uid: statSync(folder).uid, gid: statSync(folder).gid }).toEqual({ uid: NOBODY, gid: NOBODY });
    }
  });

  it('stops with what to run when a root holds files and PUID cannot write it (the EACCES of a first sync)', () => {
    const root = join(dir, 'owned-by-root');
    mkdirSync(root);
    writeFileSync(join(root, 'photo.jpg'), 'x');
    const result = run({ SYNCENGINE_ALLOWED_ROOTS: root });
    expect(result.status).toBe(78);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(
      `SyncEngine cannot write to ${root} (owned by uid:gid 0:0) as uid:gid ${NOBODY}:${NOBODY}.`,
    );
    expect(result.stderr).toContain('set PUID=0 and PGID=0 in .env');
    expect(result.stderr).toContain(`sudo chown -R ${NOBODY}:${NOBODY} "$SYNCENGINE_SYNC_ROOT"`);
    // The user's folder is left as it was.
    expect(statSync(root).uid).toBe(0);
  });
});

describe.skipIf(isRoot)('the images’ entry point', () => {
  it.skip('switches users, which only root can: run the tests as root (CI does) to check it', () => {});
});
