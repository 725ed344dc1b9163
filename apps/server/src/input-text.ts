/**
 * Text the database and file systems cannot hold: NUL characters (Postgres refuses them
 * in text, the file system in names) and unpaired UTF-16 surrogates (not Unicode: they
 * would be stored as U+FFFD, silently another name). In a `u` regular expression a
 * surrogate pair is one code point, so the range matches only unpaired ones.
 */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Why a string cannot be taken, or null. */
function problemOf(text: string): string | null {
  if (text.includes('\0')) return 'must not contain NUL characters';
  if (LONE_SURROGATE.test(text)) return 'must be valid Unicode (it holds an unpaired surrogate)';
  return null;
}

/**
 * The first string (or object key) in a parsed request part that holds unstorable text,
 * with its field path (`body.source.path`), or null when everything is storable.
 */
export function findUnstorableText(value: unknown, path: string): { path: string; message: string } | null {
  if (typeof value === 'string') {
    const message = problemOf(value);
    return message ? { path, message } : null;
  }
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findUnstorableText(item, `${path}.${index}`);
      if (found) return found;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const keyProblem = problemOf(key);
      if (keyProblem) return { path, message: `field names ${keyProblem}` };
      const found = findUnstorableText(item, `${path}.${key}`);
      if (found) return found;
    }
  }
  return null;
}
