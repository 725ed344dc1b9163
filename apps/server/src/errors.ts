import type { ErrorResponse } from '@syncengine/contracts';
import { isDatabaseUnavailable } from '@syncengine/db';
import { RedisUnavailableError } from '@syncengine/queue-redis';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';

const STATUS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNPROCESSABLE: 422,
  TOO_MANY_REQUESTS: 429,
  UNAVAILABLE: 503,
} as const;
export type AppErrorCode = keyof typeof STATUS;

/** The one error type services throw; the error handler maps its code to a status. */
export class AppError extends Error {
  override readonly name = 'AppError';
  /** The request field at fault (`source.path`), answered as `issues[0].path`. */
  readonly field: string | undefined;
  constructor(
    readonly code: AppErrorCode,
    message: string,
    options: { field?: string } = {},
  ) {
    super(options.field ? `${options.field}: ${message}` : message);
    this.field = options.field;
    this.detail = message;
  }
  /** The message without the field name. */
  readonly detail: string;
  get statusCode(): number {
    return STATUS[this.code];
  }
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};
const reason = (status: number) =>
  REASONS[status] ?? (status >= 500 ? 'Internal Server Error' : 'Bad Request');

export function errorBody(
  request: FastifyRequest,
  statusCode: number,
  message: string,
  extra: Partial<ErrorResponse> = {},
): ErrorResponse {
  return { statusCode, error: reason(statusCode), message, requestId: String(request.id), ...extra };
}

/**
 * `{statusCode, error, message, requestId}` for every failure. Validation errors name the
 * field (`body.source.path: …`); unknown errors are a generic 500 that leaks nothing.
 */
export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const context = (error as { validationContext?: string }).validationContext ?? 'request';
    const issues = error.validation.map((issue) => {
      const path = [context, ...issue.instancePath.split('/').filter(Boolean)].join('.');
      return { path, message: issue.message ?? 'is invalid' };
    });
    const first = issues[0];
    return reply.code(400).send(
      errorBody(request, 400, first ? `${first.path}: ${first.message}` : 'invalid request', {
        code: 'VALIDATION',
        issues,
      }),
    );
  }
  if (error instanceof AppError) {
    return reply.code(error.statusCode).send(
      errorBody(request, error.statusCode, error.message, {
        code: error.code,
        ...(error.field ? { issues: [{ path: error.field, message: error.detail }] } : {}),
      }),
    );
  }
  if (isResponseSerializationError(error)) {
    request.log.error({ err: error, issues: error.cause.issues }, 'response does not match its schema');
    return reply.code(500).send(errorBody(request, 500, 'Internal Server Error'));
  }
  // Postgres or Redis down or restarting: their clients reconnect by themselves, the caller may retry.
  const unavailable = isDatabaseUnavailable(error)
    ? { part: 'database', code: 'DATABASE_UNAVAILABLE' }
    : error instanceof RedisUnavailableError
      ? { part: 'job queue', code: 'QUEUE_UNAVAILABLE' }
      : null;
  if (unavailable) {
    request.log.warn({ err: error }, `${unavailable.part} unavailable`);
    return reply
      .code(503)
      .header('retry-after', '5')
      .send(
        errorBody(
          request,
          503,
          `The ${unavailable.part} is unavailable right now; try again in a few seconds`,
          {
            code: unavailable.code,
          },
        ),
      );
  }
  const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (status >= 400 && status < 500) {
    return reply.code(status).send(errorBody(request, status, error.message));
  }
  request.log.error({ err: error }, 'request failed');
  return reply.code(500).send(errorBody(request, 500, 'Internal Server Error'));
}
