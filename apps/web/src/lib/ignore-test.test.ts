import { describe, expect, it } from 'vitest';
import { patternLines, testIgnoredPath } from './ignore-test.js';

describe('testIgnoredPath', () => {
  const patterns = ['*.tmp', '/build/', '**/node_modules/', '*.log', '!keep.log', '# a comment', '*.py[cod]'];

  it.each([
    ['notes.tmp', 'ignored'],
    ['docs/notes.tmp', 'ignored'],
    ['build/out.js', 'ignored'],
    ['src/build/out.js', 'included'],
    ['a/b/node_modules/x.js', 'ignored'],
    ['debug.log', 'ignored'],
    ['keep.log', 'included'],
    ['module.pyc', 'ignored'],
    ['module.py', 'included'],
    ['README.md', 'included'],
  ])('%s is %s', (path, kind) => {
    expect(testIgnoredPath(patterns, path).kind).toBe(kind);
  });

  it('tests a path ending in a slash as a folder', () => {
    expect(testIgnoredPath(['cache/'], 'cache/').kind).toBe('ignored');
    expect(testIgnoredPath(['cache/'], 'cache').kind).toBe('included');
  });

  it('refuses absolute paths and paths that climb out of the root', () => {
    expect(testIgnoredPath([], '/etc/passwd').kind).toBe('invalid');
    expect(testIgnoredPath([], 'a/../b').kind).toBe('invalid');
    expect(testIgnoredPath([], '  ').kind).toBe('empty');
  });
});

describe('patternLines', () => {
  it('keeps one pattern per non-blank line', () => {
    expect(patternLines('*.tmp\n\n  \nbuild/  \r\n!keep.log')).toEqual(['*.tmp', 'build/', '!keep.log']);
  });
});
