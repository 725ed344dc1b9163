import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPathGuard, isWithin, PathNotAllowedError } from './confinement.js';

describe('path confinement', () => {
  let base: string;
  let root: string;
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'syncengine-confine-'));
    root = join(base, 'root');
    await mkdir(join(root, 'inside'), { recursive: true });
    await mkdir(join(base, 'outside'));
    await symlink(join(base, 'outside'), join(root, 'escape'));
    await symlink(join(root, 'inside'), join(base, 'link-in'));
  });
  afterAll(() => rm(base, { recursive: true, force: true }));

  it('accepts a folder under a root, existing or not yet', async () => {
    const guard = createPathGuard([root]);
    await expect(guard.check(join(root, 'inside'))).resolves.toMatch(/inside$/);
    await expect(guard.check(join(root, 'new', 'deeper'))).resolves.toMatch(/new\/deeper$/);
    await expect(guard.check(root)).resolves.toBeTruthy();
  });

  it('refuses relative paths, ".." segments and paths outside every root', async () => {
    const guard = createPathGuard([root]);
    await expect(guard.check('inside')).rejects.toThrow(/not an absolute path/);
    await expect(guard.check(`${root}/inside/../../outside`)).rejects.toThrow(/\.\./);
    await expect(guard.check(join(base, 'outside'))).rejects.toThrow(PathNotAllowedError);
    await expect(guard.check(`${root}-sibling`)).rejects.toThrow(/outside the allowed roots/);
  });

  it('judges symlinks by their target', async () => {
    const guard = createPathGuard([root]);
    await expect(guard.check(join(root, 'escape'))).rejects.toThrow(/outside the allowed roots/);
    await expect(guard.check(join(root, 'escape', 'not-yet'))).rejects.toThrow(/outside the allowed roots/);
    await expect(guard.check(join(base, 'link-in'))).resolves.toMatch(/inside$/);
  });

  it('refuses a path inside a protected folder or containing one, also through a symlink', async () => {
    const data = join(root, 'inside', 'data');
    await mkdir(data, { recursive: true });
    await symlink(data, join(root, 'link-to-data'));
    const guard = createPathGuard([root], { protectedFolders: [{ path: data, name: 'the data directory' }] });
    await expect(guard.check(data)).rejects.toThrow(/is the data directory/);
    await expect(guard.check(join(data, 'db'))).rejects.toThrow(/is inside the data directory/);
    await expect(guard.check(join(root, 'link-to-data', 'db'))).rejects.toThrow(
      /is inside the data directory/,
    );
    await expect(guard.check(join(root, 'inside'))).rejects.toThrow(/contains the data directory/);
    await expect(guard.check(root)).rejects.toThrow(/contains the data directory/);
    await expect(guard.check(join(root, 'inside', 'data-sibling'))).resolves.toMatch(/data-sibling$/);
  });

  it('refuses NUL characters, paths through a file, symlink loops and over-long names with a PathNotAllowedError', async () => {
    const guard = createPathGuard([root]);
    await writeFile(join(root, 'a-file'), 'x');
    await symlink(join(root, 'loop-b'), join(root, 'loop-a'));
    await symlink(join(root, 'loop-a'), join(root, 'loop-b'));
    await expect(guard.check(`${root}/nul\0name`)).rejects.toThrow(/NUL character/);
    await expect(guard.check(join(root, 'a-file', 'below'))).rejects.toThrow(/goes through a file/);
    await expect(guard.check(join(root, 'loop-a', 'x'))).rejects.toThrow(/loop of symbolic links/);
    await expect(guard.check(join(root, 'n'.repeat(300)))).rejects.toThrow(PathNotAllowedError);
    await expect(guard.check(join(root, `${'d/'.repeat(3000)}x`))).rejects.toThrow(/too long/);
    await expect(guard.check(join(root, 'lone-\ud800'))).rejects.toThrow(/unpaired surrogate/);
    await symlink(join(base, 'outside', 'not-yet'), join(root, 'dangling'));
    await expect(guard.check(join(root, 'dangling'))).rejects.toThrow(/symbolic link to a missing target/);
    await expect(guard.check(join(root, 'dangling', 'x'))).rejects.toThrow(
      /symbolic link to a missing target/,
    );
  });

  it('allows any of several roots', async () => {
    const guard = createPathGuard([join(base, 'outside'), root]);
    await expect(guard.check(join(base, 'outside'))).resolves.toBeTruthy();
  });
});

describe('isWithin', () => {
  it('is true for the folder itself and below, false for siblings with a common prefix', () => {
    expect(isWithin('/a/b', '/a/b')).toBe(true);
    expect(isWithin('/a/b', '/a/b/c')).toBe(true);
    expect(isWithin('/a/b', '/a/bc')).toBe(false);
    expect(isWithin('/a/b', '/a')).toBe(false);
  });
});
