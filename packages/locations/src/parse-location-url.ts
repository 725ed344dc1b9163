import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Location, LocationSchema } from '@syncengine/contracts';
import { SyncError } from '@syncengine/engine';
import { absolutePlainPath, expandHome, SCHEME } from './local-location.js';

/**
 * Settings that do not fit in a location URL; the CLI fills them from its flags
 * (`--sftp-key`, `--s3-endpoint`, …). Every field is optional.
 */
export interface ParseLocationOptions {
  /** Folder that relative local paths are resolved against. Default: `process.cwd()`. */
  cwd?: string;
  /** Environment to read defaults from. Default: `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Private key file for SFTP (`--sftp-key`); `~/` is expanded. */
  sftpKeyPath?: string;
  /** SFTP password, when not in the URL. Falls back to `SYNCENGINE_SFTP_PASSWORD`. */
  sftpPassword?: string;
  /** Pinned SFTP host key (`ssh-ed25519 AAAA…` or `SHA256:…`), instead of known_hosts. */
  sftpHostKey?: string;
  /**
   * S3-compatible endpoint (`--s3-endpoint`). Falls back to `SYNCENGINE_S3_ENDPOINT`,
   * then `AWS_ENDPOINT_URL_S3`, then `AWS_ENDPOINT_URL`; AWS itself when none is set.
   */
  s3Endpoint?: string;
  /** S3 region. Falls back to `AWS_REGION`, `AWS_DEFAULT_REGION`, then `us-east-1`. */
  s3Region?: string;
  /** Path-style S3 addressing. Default: true when an endpoint is set, false for AWS. */
  s3ForcePathStyle?: boolean;
  /** WebDAV password, when not in the URL. Falls back to `SYNCENGINE_WEBDAV_PASSWORD`. */
  webdavPassword?: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function invalid(text: string, problem: string): SyncError {
  return new SyncError('INVALID_CONFIG', `Invalid location '${redactUrl(text)}': ${problem}`);
}

/** The URL text with any password replaced, for error messages. */
function redactUrl(text: string): string {
  return text.replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/, '$1:***@');
}

function decode(text: string, part: string, original: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw invalid(original, `the ${part} has a malformed %-escape`);
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function validated(text: string, candidate: Record<string, unknown>): Location {
  const result = LocationSchema.safeParse(candidate);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.join('.') || 'location';
  throw invalid(text, `${field} ${issue?.message ?? 'is invalid'}`);
}

/**
 * Parses a location as typed on a command line:
 *
 * - a plain path (relative paths resolve against `cwd`) or `file:///abs/path` → local
 * - `sftp://user[:password]@host[:port]/abs/path`; `/~/dir` or no path means the login folder
 * - `s3://bucket/prefix`
 * - `webdav://user[:password]@host[:port]/path` (HTTP) and `webdavs://…` (HTTPS)
 *
 * Throws `SyncError('INVALID_CONFIG')` naming the problem. The result may hold a password
 * (from the URL or the environment): use `describeLocation`/`redactLocation` before
 * showing or storing it.
 */
export function parseLocationUrl(text: string, options: ParseLocationOptions = {}): Location {
  const env = options.env ?? process.env;
  const trimmed = text.trim();
  if (trimmed === '') throw invalid(text, 'it is empty');

  const scheme = SCHEME.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    return validated(text, { type: 'local', path: absolutePlainPath(trimmed, options) });
  }

  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw invalid(text, 'it is not a valid URL');
  }

  switch (scheme) {
    case 'file': {
      if (url.host !== '' && url.host !== 'localhost') {
        throw invalid(text, `file:// URLs must be local (got host '${url.host}')`);
      }
      return validated(text, { type: 'local', path: fileURLToPath(url) });
    }
    case 'sftp': {
      if (url.hostname === '') throw invalid(text, 'the host is missing (sftp://user@host/path)');
      const username = nonEmpty(decode(url.username, 'user name', text)) ?? env.USER ?? env.LOGNAME;
      if (!username) throw invalid(text, 'the user name is missing (sftp://user@host/path)');
      const password =
        nonEmpty(decode(url.password, 'password', text)) ??
        nonEmpty(options.sftpPassword) ??
        nonEmpty(env.SYNCENGINE_SFTP_PASSWORD);
      let path = decode(url.pathname, 'path', text);
      if (path === '' || path === '/~' || path === '/~/') path = '.';
      else if (path.startsWith('/~/')) path = path.slice(3);
      if (path.length > 1) path = path.replace(/\/+$/, '');
      const candidate: Record<string, unknown> = {
        type: 'sftp',
        host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port === '' ? 22 : Number(url.port),
        username,
        path,
      };
      if (password !== undefined) candidate.password = password;
      if (options.sftpKeyPath) candidate.privateKeyPath = resolve(expandHome(options.sftpKeyPath, env));
      if (options.sftpHostKey) candidate.hostKey = options.sftpHostKey;
      return validated(text, candidate);
    }
    case 's3': {
      const bucket = url.hostname;
      if (bucket === '') throw invalid(text, 'the bucket is missing (s3://bucket/prefix)');
      if (url.username !== '' || url.password !== '' || url.port !== '') {
        throw invalid(text, 'put credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, not in the URL');
      }
      if (!BUCKET.test(bucket)) {
        throw invalid(
          text,
          `'${bucket}' is not a valid bucket name (3–63 lowercase letters, digits, '.', '-')`,
        );
      }
      const prefix = decode(url.pathname, 'prefix', text).replace(/^\/+|\/+$/g, '');
      // The URL parser would quietly resolve `a/../b`, so check the text as typed.
      const typedPath = trimmed.slice('s3://'.length).split(/[?#]/)[0] ?? '';
      if (typedPath.split('/').some((part) => part === '..' || part === '.')) {
        throw invalid(text, "the prefix must not contain '.' or '..' segments");
      }
      const endpoint =
        nonEmpty(options.s3Endpoint) ??
        nonEmpty(env.SYNCENGINE_S3_ENDPOINT) ??
        nonEmpty(env.AWS_ENDPOINT_URL_S3) ??
        nonEmpty(env.AWS_ENDPOINT_URL);
      const candidate: Record<string, unknown> = {
        type: 's3',
        bucket,
        prefix,
        region:
          nonEmpty(options.s3Region) ??
          nonEmpty(env.AWS_REGION) ??
          nonEmpty(env.AWS_DEFAULT_REGION) ??
          'us-east-1',
        forcePathStyle: options.s3ForcePathStyle ?? endpoint !== undefined,
      };
      if (endpoint !== undefined) candidate.endpoint = endpoint;
      return validated(text, candidate);
    }
    case 'webdav':
    case 'webdavs': {
      if (url.hostname === '') throw invalid(text, 'the host is missing (webdav://host/path)');
      const username = nonEmpty(decode(url.username, 'user name', text));
      const password =
        nonEmpty(decode(url.password, 'password', text)) ??
        nonEmpty(options.webdavPassword) ??
        nonEmpty(env.SYNCENGINE_WEBDAV_PASSWORD);
      const http = new URL(`${scheme === 'webdavs' ? 'https' : 'http'}://${url.host}${url.pathname}`);
      const candidate: Record<string, unknown> = { type: 'webdav', url: http.toString() };
      if (username !== undefined) candidate.username = username;
      if (password !== undefined) candidate.password = password;
      return validated(text, candidate);
    }
    default:
      throw invalid(
        text,
        `unknown scheme '${scheme}://' (use a path, file://, sftp://, s3://, webdav:// or webdavs://)`,
      );
  }
}
