import ignore from 'ignore';

export type IgnoreVerdict =
  | { kind: 'empty' }
  | { kind: 'invalid'; message: string }
  | { kind: 'ignored' }
  | { kind: 'included' };

/**
 * Whether a relative path would be ignored by these gitignore-style patterns. A path ending
 * in `/` is tested as a folder. `.syncignore` files inside the folders also apply at run time;
 * they are not known here.
 */
export function testIgnoredPath(patterns: readonly string[], rawPath: string): IgnoreVerdict {
  const path = rawPath
    .trim()
    .replace(/\\/g, '/')
    .replace(/^\.\/+/, '');
  if (path === '') return { kind: 'empty' };
  if (path.startsWith('/') || path.split('/').includes('..')) {
    return { kind: 'invalid', message: 'Enter a path relative to the pair’s root, without “..”.' };
  }
  const matcher = ignore().add(patterns.filter((line) => line.trim() !== ''));
  return matcher.ignores(path) ? { kind: 'ignored' } : { kind: 'included' };
}

/** The pattern lines of the editor's text (one per line, blank lines dropped, comments kept). */
export function patternLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== '');
}
