import {
  CreatedTokenSchema,
  CreateTokenSchema,
  IdParamsSchema,
  LoginSchema,
  TokenListSchema,
  UserSchema,
} from '@syncengine/contracts';
import { z } from 'zod';
import type { AuthService } from '../services/auth.service.js';
import { currentUser, errorResponses, type ZodApp } from './types.js';

export const SESSION_COOKIE = 'syncengine_session';

/** `POST /auth/login` (public). */
export function loginRoutes(app: ZodApp, deps: { auth: AuthService; cookieSecure: boolean }) {
  app.post(
    '/auth/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Sign in; sets an httpOnly session cookie',
        body: LoginSchema,
        response: { 200: UserSchema, ...errorResponses(400, 401) },
      },
    },
    async (request, reply) => {
      const { user, sessionToken, expiresAt } = await deps.auth.login(
        request.body.username,
        request.body.password,
      );
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
