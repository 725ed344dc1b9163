import { describe, expect, it } from 'vitest';
import { isSyncError } from './errors.js';
import {
  baseName,
  comparePaths,
  isEngineInternalPath,
  isTempName,
  joinPath,
  normalizeRelativePath,
  parentPath,
  tempPathFor,
} from './paths.js';

describe('normalizeRelativePath', () => {
  it.each([
    ['a/b.txt', 'a/b.txt'],
    ['./a/b.txt', 'a/b.txt'],
    ['a/./b.txt', 'a/b.txt'],
    ['dir/', 'dir'],
    ['cafe\u0301.txt', 'caf\u00e9.txt'],
    ['a b/#1 %20 😀', 'a b/#1 %20 😀'],
  ])('normalises %j to %j', (input, expected) => {
    expect(normalizeRelativePath(input)).toBe(expected);
  });

  it.each([
    ['../x', '".." is not allowed'],
    ['a/../../x', '".." is not allowed'],
    ['a/..', '".." is not allowed'],
    ['/abs', 'absolute'],
    ['C:\\x', 'absolute'],
    ['a//b', 'empty path segment'],
    ['', 'empty path'],
    ['a\0b', 'NUL'],
  ])('rejects %j with INVALID_PATH naming the path', (input, why) => {
    let caught: unknown;
    try {
      normalizeRelativePath(input);
    } catch (error) {
      caught = error;
    }
    expect(isSyncError(caught, 'INVALID_PATH')).toBe(true);
    expect((caught as Error).message).toContain(JSON.stringify(input));
    expect((caught as Error).message).toContain(why);
  });

  it.each(['a', 'a b/c d.txt', '.git/config', 'a/.hidden', '...', 'a/...', 'x/y~z!'])(
    'keeps the plain path %j as it is',
    (path) => {
      expect(normalizeRelativePath(path)).toBe(path);
    },
  );

  it.each(['a/../b', 'a/./b', './a', 'a//b', '/a', '..'])('still refuses or rewrites %j', (path) => {
    let result: string | undefined;
    try {
      result = normalizeRelativePath(path);
    } catch {
      result = undefined;
    }
    expect(result).not.toBe(path);
  });

  it('accepts the root only when asked', () => {
    expect(normalizeRelativePath('', { allowRoot: true })).toBe('');
    expect(normalizeRelativePath('./', { allowRoot: true })).toBe('');
  });
});

describe('path helpers', () => {
  it('splits and joins paths', () => {
    expect(joinPath('', 'a', 'b')).toBe('a/b');
    expect(parentPath('a/b/c')).toBe('a/b');
    expect(parentPath('a')).toBe('');
    expect(baseName('a/b/c.txt')).toBe('c.txt');
    expect(baseName('c.txt')).toBe('c.txt');
  });

  it('makes temp names in the same directory that are recognised as internal', () => {
    const temp = tempPathFor('docs/report.pdf');
    expect(parentPath(temp)).toBe('docs');
    expect(isTempName(baseName(temp))).toBe(true);
    expect(isEngineInternalPath(temp)).toBe(true);
    expect(tempPathFor('docs/report.pdf')).not.toBe(temp);
    expect(isTempName('report.pdf')).toBe(false);
  });

  it('treats the engine folder, the state folder and temp files as internal', () => {
    expect(isEngineInternalPath('.syncengine')).toBe(true);
    expect(isEngineInternalPath('.syncengine/versions/2024/a.txt')).toBe(true);
    expect(isEngineInternalPath('.sync_state/source_tree.json')).toBe(true);
    expect(isEngineInternalPath('nested/.sync_state')).toBe(true);
    expect(isEngineInternalPath('.syncignore')).toBe(false);
    expect(isEngineInternalPath('notes/.syncengine-readme.txt')).toBe(false);
    expect(isEngineInternalPath('a/b.txt')).toBe(false);
  });

  it('orders paths depth-first with directories before their contents', () => {
    const sorted = ['a b', 'a/b', 'a', 'a/b/c', 'a-z', 'b'].sort(comparePaths);
    expect(sorted).toEqual(['a', 'a/b', 'a/b/c', 'a b', 'a-z', 'b']);
  });
});
