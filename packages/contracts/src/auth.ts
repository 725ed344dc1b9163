import { z } from 'zod';
import { IdSchema, TimestampSchema } from './common.js';

/** `POST /auth/login` body. */
export const LoginSchema = z.object({
  username: z.string().min(1).max(200),
  password: z.string().min(1).max(1000),
});
export type Login = z.infer<typeof LoginSchema>;

/** The signed-in user (`POST /auth/login`, `GET /auth/me`). */
export const UserSchema = z.object({ id: IdSchema, username: z.string() });
export type User = z.infer<typeof UserSchema>;

/** `POST /tokens` body. */
export const CreateTokenSchema = z.object({ name: z.string().trim().min(1).max(200) });
export type CreateToken = z.infer<typeof CreateTokenSchema>;

/** An API token as listed; the secret itself is only ever returned once, on creation. */
export const TokenSchema = z.object({
  id: IdSchema,
  name: z.string(),
  createdAt: TimestampSchema,
  lastUsedAt: TimestampSchema.nullable(),
});
export type Token = z.infer<typeof TokenSchema>;

/** `POST /tokens` answer (201): the only time `token` is shown. Use it as `Authorization: Bearer <token>`. */
export const CreatedTokenSchema = TokenSchema.extend({ token: z.string() });
export type CreatedToken = z.infer<typeof CreatedTokenSchema>;

export const TokenListSchema = z.object({ items: z.array(TokenSchema) });
export type TokenList = z.infer<typeof TokenListSchema>;
