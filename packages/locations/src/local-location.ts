import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LocalLocation } from '@syncengine/contracts';
import { isAbsoluteLocationPath } from '@syncengine/contracts/location-info';
import type { ParseLocationOptions } from './parse-location-url.js';

/** The scheme of a location URL (`sftp` in `sftp://…`); a plain path has none. */
export const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//;

/** `~` and `~/…` under the home folder (`$HOME`, else the account's). */
export function expandHome(path: string, env: NodeJS.ProcessEnv): string {
  if (path === '~' || path.startsWith('~/')) return (env.HOME ?? homedir()) + path.slice(1);
  return path;
}

/** A plain path as typed (trimmed), made absolute: `~/` expanded, relative to `cwd`. */
export function absolutePlainPath(trimmed: string, options: ParseLocationOptions): string {
  const path = expandHome(trimmed, options.env ?? process.env);
  return isAbsolute(path) ? resolve(path) : resolve(options.cwd ?? process.cwd(), path);
}

/**
 * The local location a plain path or a `file://` URL names, as `parseLocationUrl` returns
 * it, without loading the location schemas; undefined for a remote URL and for text that
 * `parseLocationUrl` rejects (it says why).
 */
export function parseLocalLocation(
  text: string,
  options: ParseLocationOptions = {},
): LocalLocation | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const scheme = SCHEME.exec(trimmed)?.[1]?.toLowerCase();
  let path: string;
  if (scheme === undefined) {
    path = absolutePlainPath(trimmed, options);
  } else if (scheme === 'file') {
    try {
      const url = new URL(trimmed);
      if (url.host !== '' && url.host !== 'localhost') return undefined;
      path = fileURLToPath(url);
    } catch {
      return undefined;
    }
  } else {
    return undefined;
  }
  return isAbsoluteLocationPath(path) ? { type: 'local', path } : undefined;
}
