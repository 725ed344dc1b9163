import {
  CreatedTokenSchema,
  CreateTokenSchema,
  IdParamsSchema,
  LoginSchema,
  TokenListSchema,
  UserSchema,
} from '@syncengine/contracts';
import { z } from 'zod';
import { AppError } from '../errors.js';
import type { AuthService } from '../services/auth.service.js';
import { currentUser, errorResponses, type ZodApp } from './types.js';

export const SESSION_COOKIE = 'syncengine_session';

/** Failed sign-ins allowed per window: per user name, and per client address. */
export const LOGIN_LIMITS = { perUser: 10, perAddress: 30, windowMs: 15 * 60_000 } as const;

/**
 * `POST /auth/login` (public). Failed attempts are counted per user name and per client
 * address; past either limit, attempts are refused with 429 and `Retry-After` before any
 * password is checked, so guessing stays slow and costs the server nothing.
 */
export function loginRoutes(app: ZodApp, deps: { auth: AuthService; cookieSecure: boolean }) {
  const failuresByUser = app.createRateLimit({
    max: LOGIN_LIMITS.perUser,
    timeWindow: LOGIN_LIMITS.windowMs,
    keyGenerator: (request) =>
      `login-user:${String((request.body as { username?: unknown }).username).toLowerCase()}`,
  });
  const failuresByAddress = app.createRateLimit({
    max: LOGIN_LIMITS.perAddress,
    timeWindow: LOGIN_LIMITS.windowMs,
    keyGenerator: (request) => `login-address:${request.ip}`,
  });
  app.post(
    '/auth/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Sign in; sets an httpOnly session cookie',
        description: `At most ${LOGIN_LIMITS.perUser} failed attempts per user name and ${LOGIN_LIMITS.perAddress} per client address in ${LOGIN_LIMITS.windowMs / 60_000} minutes; then 429 with Retry-After.`,
        body: LoginSchema,
        response: { 200: UserSchema, ...errorResponses(400, 401, 429) },
      },
    },
    async (request, reply) => {
      for (const limit of [failuresByUser, failuresByAddress]) {
        const state = await limit(request, { increment: false });
        if (!state.isAllowed && state.remaining === 0) {
          reply.header('retry-after', String(state.ttlInSeconds));
          throw new AppError(
            'TOO_MANY_REQUESTS',
            `too many failed sign-ins; try again in ${state.ttlInSeconds} seconds`,
          );
        }
      }
      let session: Awaited<ReturnType<AuthService['login']>>;
      try {
        session = await deps.auth.login(request.body.username, request.body.password);
      } catch (error) {
        if (error instanceof AppError && error.code === 'UNAUTHORIZED') {
          await failuresByUser(request);
          await failuresByAddress(request);
        }
        throw error;
      }
      const { user, sessionToken, expiresAt } = session;
      reply.setCookie(SESSION_COOKIE, sessionToken, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: deps.cookieSecure,
        expires: expiresAt,
      });
      return user;
    },
  );
}

/** Session and token routes (authenticated). */
export function authRoutes(app: ZodApp, deps: { auth: AuthService }) {
  app.post(
    '/auth/logout',
    { schema: { tags: ['auth'], summary: 'Sign out', response: { 204: z.null(), ...errorResponses(401) } } },
    async (request, reply) => {
      const token = request.cookies[SESSION_COOKIE];
      if (token) await deps.auth.logout(token);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.code(204).send(null);
    },
  );
  app.get(
    '/auth/me',
    {
      schema: {
        tags: ['auth'],
        summary: 'The signed-in user',
        response: { 200: UserSchema, ...errorResponses(401) },
      },
    },
    async (request) => currentUser(request),
  );
  app.post(
    '/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Create an API token; the token is shown only in this answer',
        body: CreateTokenSchema,
        response: { 201: CreatedTokenSchema, ...errorResponses(400, 401) },
      },
    },
    async (request, reply) => {
      const token = await deps.auth.createToken(currentUser(request).id, request.body.name);
      return reply.code(201).send(token);
    },
  );
  app.get(
    '/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary: 'List API tokens',
        response: { 200: TokenListSchema, ...errorResponses(401) },
      },
    },
    async (request) => ({ items: await deps.auth.listTokens(currentUser(request).id) }),
  );
  app.delete(
    '/tokens/:id',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Revoke an API token',
        params: IdParamsSchema,
        response: { 204: z.null(), ...errorResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      await deps.auth.deleteToken(currentUser(request).id, request.params.id);
      return reply.code(204).send(null);
    },
  );
}
