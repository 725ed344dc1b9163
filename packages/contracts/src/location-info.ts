/**
 * What is known of a location apart from its schemas (in location.ts): the types, the secret
 * fields, redaction and the one-line description. Imports nothing at run time, so the
 * command line handles local folders without loading zod.
 */
import type { Location, LocationType } from './location.js';

/** A POSIX absolute path, or a Windows drive path: the root a local location must have. */
export function isAbsoluteLocationPath(path: string): boolean {
  return path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path);
}

export const LOCATION_TYPES = ['local', 'sftp', 's3', 'webdav'] as const satisfies readonly LocationType[];

/**
 * Fields holding secrets, per location type. The server encrypts these at rest and never
 * returns them; `redactLocation` drops them.
 */
export const LOCATION_SECRET_FIELDS = {
  local: [],
  sftp: ['password', 'privateKey', 'passphrase'],
  s3: ['secretAccessKey', 'sessionToken'],
  webdav: ['password'],
} as const satisfies { [T in LocationType]: readonly (keyof Extract<Location, { type: T }>)[] };

/** The names of the secret fields a location of this type can have. */
export function locationSecretFields(type: LocationType): readonly string[] {
  return LOCATION_SECRET_FIELDS[type];
}

/**
 * The location without its secret fields, plus which secrets were set (so a form can show
 * "password saved" without ever receiving it).
 */
export function redactLocation(location: Location): Location & { secretsSet: string[] } {
  const copy: Record<string, unknown> = { ...location };
  const secretsSet: string[] = [];
  for (const field of locationSecretFields(location.type)) {
    if (copy[field] !== undefined && copy[field] !== '') secretsSet.push(field);
    delete copy[field];
  }
  return { ...(copy as Location), secretsSet };
}

/** A one-line, secret-free description: `sftp://alice@host:2222/data`, `s3://bucket/prefix (endpoint)`. */
export function describeLocation(location: Location): string {
  switch (location.type) {
    case 'local':
      return location.path;
    case 'sftp': {
      const port = location.port === 22 ? '' : `:${location.port}`;
      const path = location.path.startsWith('/')
        ? location.path
        : location.path === '.' || location.path === ''
          ? '/~'
          : `/~/${location.path}`;
      return `sftp://${location.username}@${location.host}${port}${path}`;
    }
    case 's3': {
      const where = location.endpoint ? ` at ${location.endpoint}` : '';
      return `s3://${location.bucket}${location.prefix ? `/${location.prefix}` : ''}${where}`;
    }
    case 'webdav': {
      // A special scheme cannot be swapped for `webdav:` through the URL API, so rebuild the text.
      const url = new URL(location.url);
      const scheme = url.protocol === 'https:' ? 'webdavs' : 'webdav';
      const user = location.username ? `${encodeURIComponent(location.username)}@` : '';
      return `${scheme}://${user}${url.host}${url.pathname}`;
    }
  }
}
