import { LOG_REDACT_PATHS, REDACTED, scrubError, scrubSecrets } from '@syncengine/engine';
import type { FastifyServerOptions } from 'fastify';

/** pino's error serializer wants a stack on every error it logs. */
const logError = (error: unknown) => {
  const scrubbed = scrubError(error);
  return { ...scrubbed, stack: scrubbed.stack ?? '' };
};

/** Where log lines go instead of stdout (tests capture them). */
export interface LogStream {
  write(line: string): void;
}

/** The server's logging: off, on at `info`, or at a level (optionally into a stream). */
export type LogOptions = boolean | { level: string; stream?: LogStream };

/**
 * Fastify's (pino) logger options: no line carries a secret. Errors are logged through
 * `scrubError` (no query parameters, headers or secret fields; messages and stacks
 * scrubbed), message texts through `scrubSecrets`, and credential headers and secret
 * fields of logged objects are blanked.
 */
export function loggerOptions(options: LogOptions | undefined): FastifyServerOptions['logger'] {
  if (!options) return false;
  const { level, stream } = options === true ? { level: 'info', stream: undefined } : options;
  return {
    level,
    ...(stream ? { stream } : {}),
    redact: { paths: [...LOG_REDACT_PATHS], censor: REDACTED },
    serializers: { err: logError, error: logError },
    hooks: {
      logMethod(args, method) {
        const scrubbed = args.map((arg) => (typeof arg === 'string' ? scrubSecrets(arg) : arg));
        method.apply(this, scrubbed as Parameters<typeof method>);
      },
    },
  };
}
