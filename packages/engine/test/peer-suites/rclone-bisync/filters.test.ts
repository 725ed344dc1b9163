import ignore from 'ignore';
import { describe, expect, it } from 'vitest';
import {
  expandBraces,
  FilterSyntaxError,
  parentDirectoryGlobs,
  parseRcloneFilters,
  translateRcloneFilterFile,
} from './filters.js';

/** True when the translated patterns leave `path` (a file, or a directory with a trailing `/`) in the sync. */
function isIncluded(filterFile: string, path: string): boolean {
  const matcher = ignore().add(translateRcloneFilterFile(filterFile));
  return !matcher.ignores(path);
}

describe('rclone filter file parsing', () => {
  it('reads + and - rules, trimming indentation and skipping comments and blank lines', () => {
    const rules = parseRcloneFilters('# c\n  ; c2\n\t- /a/\n + /b/**\n\n- x');
    expect(rules).toEqual([
      { include: false, pattern: '/a/', line: 3 },
      { include: true, pattern: '/b/**', line: 4 },
      { include: false, pattern: 'x', line: 6 },
    ]);
  });

  it('rejects lines that are not rules, and the unsupported "!" reset', () => {
    expect(() => parseRcloneFilters('*.txt')).toThrow(FilterSyntaxError);
    expect(() => parseRcloneFilters('!')).toThrow(FilterSyntaxError);
  });
});

describe('rclone filter translation to gitignore', () => {
  it('excludes an anchored file at the root only', () => {
    const filters = '- /fileZ.txt';
    expect(isIncluded(filters, 'fileZ.txt')).toBe(false);
    expect(isIncluded(filters, 'subdir/fileZ.txt')).toBe(true);
  });

  it('matches an unanchored name at any depth', () => {
    const filters = '- .DS_Store';
    expect(isIncluded(filters, '.DS_Store')).toBe(false);
    expect(isIncluded(filters, 'a/b/.DS_Store')).toBe(false);
    expect(isIncluded(filters, 'a/b/DS_Store')).toBe(true);
  });

  it('matches an unanchored pattern with a slash at the end of the path, as rclone does', () => {
    const filters = '- dir/file.txt';
    expect(isIncluded(filters, 'dir/file.txt')).toBe(false);
    expect(isIncluded(filters, 'x/y/dir/file.txt')).toBe(false);
    expect(isIncluded(filters, 'x/dir2/file.txt')).toBe(true);
  });

  it('lets the first matching rule win (rclone) although gitignore lets the last win', () => {
    expect(isIncluded('+ /keep.txt\n- *.txt', 'keep.txt')).toBe(true);
    expect(isIncluded('+ /keep.txt\n- *.txt', 'other.txt')).toBe(false);
    expect(isIncluded('- *.txt\n+ /keep.txt', 'keep.txt')).toBe(false);
  });

  it('reaches files inside a directory included before a catch-all exclude', () => {
    const filters = '+ /subdir/**\n- **';
    expect(isIncluded(filters, 'subdir/')).toBe(true);
    expect(isIncluded(filters, 'subdir/a/b.txt')).toBe(true);
    expect(isIncluded(filters, 'top.txt')).toBe(false);
    expect(isIncluded(filters, 'other/b.txt')).toBe(false);
  });

  it('includes the folders leading to an included file', () => {
    const filters = '+ /a/b/*.txt\n- **';
    expect(isIncluded(filters, 'a/b/x.txt')).toBe(true);
    expect(isIncluded(filters, 'a/b/x.jpg')).toBe(false);
    expect(isIncluded(filters, 'a/c.txt')).toBe(false);
  });

  it('treats a trailing slash as a directory rule that excludes everything below', () => {
    const filters = '- /subdir-not/';
    expect(isIncluded(filters, 'subdir-not/')).toBe(false);
    expect(isIncluded(filters, 'subdir-not/x/RCLONE_TEST')).toBe(false);
    expect(isIncluded(filters, 'subdir-not')).toBe(true); // a file of that name is not a directory
  });

  it('expands {a,b} alternations', () => {
    expect(expandBraces('*.{jpg,png}')).toEqual(['*.jpg', '*.png']);
    expect(expandBraces('{a,b{c,d}}x')).toEqual(['ax', 'bcx', 'bdx']);
    expect(isIncluded('- *.{jpg,png}', 'p/q.png')).toBe(false);
    expect(isIncluded('- *.{jpg,png}', 'p/q.gif')).toBe(true);
  });

  it('lists the parent directory globs of an include rule up to a ** component', () => {
    expect(parentDirectoryGlobs('/a/b/*.txt')).toEqual(['/a/', '/a/b/']);
    expect(parentDirectoryGlobs('/subdir/**')).toEqual(['/subdir/']);
    expect(parentDirectoryGlobs('/x/**/y/z')).toEqual(['/x/']);
    expect(parentDirectoryGlobs('*.txt')).toEqual([]);
  });

  it('reproduces the check-access EXCLUDE filter of the rclone suite', () => {
    const filters = [
      '# EXCLUDE ALL Filters file',
      '\t- /subdir/subdirA/',
      '\t + /subdir/**',
      '- /subdir-not/',
      '- .DS_Store',
      '+ /*',
      '- **',
    ].join('\n');
    expect(isIncluded(filters, 'RCLONE_TEST')).toBe(true);
    expect(isIncluded(filters, 'subdir/RCLONE_TEST')).toBe(true);
    expect(isIncluded(filters, 'subdir/subdirB/RCLONE_TEST')).toBe(true);
    expect(isIncluded(filters, 'subdir/subdirA/RCLONE_TEST')).toBe(false);
    expect(isIncluded(filters, 'subdir-not/RCLONE_TEST')).toBe(false);
    expect(isIncluded(filters, 'subdirX/RCLONE_TEST')).toBe(false);
    expect(isIncluded(filters, 'subdirX/subdirX1/RCLONE_TEST')).toBe(false);
    // `+ /subdir/**` comes first, so it wins over `- .DS_Store` inside subdir, but not at the root.
    expect(isIncluded(filters, 'subdir/.DS_Store')).toBe(true);
    expect(isIncluded(filters, '.DS_Store')).toBe(false);
  });
});
