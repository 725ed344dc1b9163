import { ErrorResponseSchema, type User } from '@syncengine/contracts';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { AppError } from '../errors.js';

/** A Fastify instance whose routes take zod schemas. */
export type ZodApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in user; set on every authenticated route. */
    user: User | null;
  }
}

/** Error answers for the OpenAPI document. */
export const errorResponses = (...codes: number[]) =>
  Object.fromEntries(codes.map((code) => [code, ErrorResponseSchema])) as Record<
    number,
    typeof ErrorResponseSchema
  >;

/** The signed-in user of an authenticated route. */
export function currentUser(request: { user: User | null }): User {
  if (!request.user) throw new AppError('UNAUTHORIZED', 'sign in or send a bearer token');
  return request.user;
}
