import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
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
