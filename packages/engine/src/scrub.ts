/**
 * Secrets out of logs and error messages. Errors from drivers and clients carry more than
 * their message says: a database error holds its query's parameters (credentials, token
 * hashes), a connection error its URL with the password, an HTTP error its request headers.
 * Everything the server, the workers and the command line log or record about an error
 * goes through `scrubSecrets` (text) or `scrubError` (error objects).
 */

/** What stands in place of a removed secret. */
export const REDACTED = '[redacted]';

/** Names of fields whose value is a secret, wherever they appear (case-insensitive). */
const SECRET_NAME =
  /^(?:password|passwd|passphrase|secret|secretAccessKey|secret_access_key|sessionToken|session_token|accessToken|access_token|refreshToken|refresh_token|token|apiKey|api_key|privateKey|private_key|authorization|proxy-authorization|cookie|set-cookie|credentials?|params|parameters)$/i;

/** A secret name inside a longer word, for query strings (`X-Amz-Signature`, `sessionToken`). */
const SECRET_WORD =
  'token|password|passwd|passphrase|secret|signature|credential|apikey|api_key|auth|session|sig';

const TEXT_RULES: Array<[RegExp, string]> = [
  // A database driver's failed query lists its parameters last: every value goes (up to
  // the stack frames, when the text is a stack).
  [/(\bparams: )[\s\S]*?(?=\n\s+at |$)/, `$1${REDACTED}`],
  // Postgres repeats the offending values in its details.
  [/(\bKey \([^)]*\)=\()[\s\S]*?(\) (?:already exists|is not present|conflicts with))/g, `$1${REDACTED}$2`],
  [/(\bFailing row contains \()[\s\S]*\)/g, `$1${REDACTED})`],
  // user:password@ in any URL (postgres://, redis://, https://, sftp://).
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s/?#@:]*):[^\s/?#@]*@/gi, `$1:${REDACTED}@`],
  // Header lines and header objects printed as text.
  [
    /\b((?:proxy-)?authorization|cookie|set-cookie)(["']?\s*[:=]\s*["']?)(?:(?:Bearer|Basic|Digest)\s+)?[^\s"',;}]+/gi,
    `$1$2${REDACTED}`,
  ],
  // (a credential has digits or symbols, unlike the words of "Basic authentication failed").
  [/\b(Bearer|Basic)\s+(?=[A-Za-z-]*[0-9._~+/=])[A-Za-z0-9._~+/-]{8,}=*/g, `$1 ${REDACTED}`],
  // Secret-looking query parameters and key=value pairs (`?token=…`, `password=…`).
  [new RegExp(`([?&;\\s]|^)([\\w.-]*(?:${SECRET_WORD})[\\w.-]*=)[^&\\s#"';]+`, 'gi'), `$1$2${REDACTED}`],
  // JSON-style "password": "…".
  [
    /("(?:password|passphrase|secret|secretAccessKey|sessionToken|accessToken|token|apiKey|privateKey|authorization|cookie)"\s*:\s*)("(?:[^"\\]|\\.)*"|[^\s,}]+)/gi,
    `$1"${REDACTED}"`,
  ],
  // Key material.
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g, REDACTED],
];

/** `text` with every secret that a log line or an error message may carry replaced by `[redacted]`. */
export function scrubSecrets(text: string): string {
  let scrubbed = text;
  for (const [pattern, replacement] of TEXT_RULES) scrubbed = scrubbed.replace(pattern, replacement);
  return scrubbed;
}

/** An error as a log may show it: its type, message, stack, code and plain fields, all scrubbed. */
export interface ScrubbedError {
  type: string;
  message: string;
  stack?: string;
  cause?: ScrubbedError | string;
  errors?: Array<ScrubbedError | string>;
  [field: string]: unknown;
}

const MAX_CAUSE_DEPTH = 5;

/**
 * A loggable copy of `error` without secrets: messages and stacks scrubbed, and of its
 * other fields only plain values (strings, numbers, booleans) whose names are not secret.
 * Objects hung on errors (a request's headers, a client's options, a query's parameters)
 * are left out. Causes and aggregated errors are scrubbed the same way.
 */
export function scrubError(error: unknown, depth = 0): ScrubbedError {
  if (!(error instanceof Error)) {
    return { type: typeof error, message: scrubSecrets(String(error)) };
  }
  const scrubbed: ScrubbedError = {
    type: error.constructor?.name ?? error.name,
    message: scrubSecrets(error.message),
  };
  if (error.stack) scrubbed.stack = scrubSecrets(error.stack);
  for (const [name, value] of Object.entries(error)) {
    if (name === 'message' || name === 'stack' || name === 'cause' || name === 'errors') continue;
    if (SECRET_NAME.test(name)) continue;
    if (typeof value === 'string') scrubbed[name] = scrubSecrets(value);
    else if (typeof value === 'number' || typeof value === 'boolean') scrubbed[name] = value;
  }
  const nested = (value: unknown) =>
    depth >= MAX_CAUSE_DEPTH
      ? REDACTED
      : value instanceof Error
        ? scrubError(value, depth + 1)
        : scrubSecrets(String(value));
  if (error.cause !== undefined) scrubbed.cause = nested(error.cause);
  const errors = (error as { errors?: unknown }).errors;
  if (Array.isArray(errors)) scrubbed.errors = errors.map(nested);
  return scrubbed;
}

/** An error's message without secrets, for run records and one-line logs. */
export function scrubbedMessage(error: unknown): string {
  return scrubSecrets(error instanceof Error ? error.message : String(error));
}

/**
 * Paths that structured loggers (pino's `redact`) blank in every line: credentials in
 * request and response headers, and secret fields one level down in any logged object.
 */
export const LOG_REDACT_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  '*.password',
  '*.passphrase',
  '*.secretAccessKey',
  '*.sessionToken',
  '*.privateKey',
  '*.token',
  '*.params',
];
