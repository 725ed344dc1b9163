import { describe, expect, it } from 'vitest';
import type { Entry, Side, Tree } from '../model.js';
import { checkAccess } from './access-check.js';

const file = (path: string): Entry => ({ path, size: 1, mtime: 0, isDir: false });
const dir = (path: string): Entry => ({ path, size: 0, mtime: 0, isDir: true });
const tree = (...entries: Entry[]): Tree => new Map(entries.map((entry) => [entry.path, entry]));
const storages = { source: { description: 'src-folder' }, destination: { description: 'dst-folder' } };
const check = (trees: Record<Side, Tree>, force = false) =>
  checkAccess({ force, accessCheckFiles: ['CHECK'] }, storages, trees);

describe('access check', () => {
  it('passes when every sentinel in the tree exists at the same path on both sides', () => {
    const entries = [file('CHECK'), dir('sub'), file('sub/CHECK'), file('a.txt')];
    expect(() => check({ source: tree(...entries), destination: tree(...entries) })).not.toThrow();
  });

  it('fails naming the sentinel in a subfolder that is missing on the destination', () => {
    const source = tree(file('CHECK'), dir('sub'), file('sub/CHECK'));
    const destination = tree(file('CHECK'), dir('sub'));
    expect(() => check({ source, destination })).toThrow(
      expect.objectContaining({
        code: 'ACCESS_CHECK',
        path: 'sub/CHECK',
        message: expect.stringMatching(/"sub\/CHECK" missing on the destination side \(dst-folder\)/),
      }),
    );
  });

  it('names what is missing on each side when both sides lack one', () => {
    const source = tree(file('a/CHECK'));
    const destination = tree(file('b/CHECK'));
    expect(() => check({ source, destination })).toThrow(
      expect.objectContaining({
        message: expect.stringMatching(
          /"b\/CHECK" missing on the source side.*"a\/CHECK" missing on the destination side/,
        ),
      }),
    );
  });

  it('fails when neither side has a sentinel anywhere', () => {
    expect(() => check({ source: tree(file('a.txt')), destination: tree() })).toThrow(
      expect.objectContaining({ code: 'ACCESS_CHECK', message: expect.stringContaining('either side') }),
    );
  });

  it('does not count a directory named like the sentinel', () => {
    const source = tree(file('CHECK'), dir('x'), dir('x/CHECK'));
    const destination = tree(file('CHECK'));
    expect(() => check({ source, destination })).not.toThrow();
  });

  it('is skipped with force, and when no sentinel is configured', () => {
    const trees = { source: tree(file('CHECK')), destination: tree() };
    expect(() => check(trees, true)).not.toThrow();
    expect(() => checkAccess({ force: false, accessCheckFiles: [] }, storages, trees)).not.toThrow();
  });
});
