import type { Token } from '@syncengine/contracts';
import { and, desc, eq } from 'drizzle-orm';
import type { Database } from '../database.js';
import { apiTokens, users } from '../schema/index.js';
import { iso, isoOrNull } from './errors.js';

const toToken = (row: typeof apiTokens.$inferSelect): Token => ({
  id: row.id,
  name: row.name,
  createdAt: iso(row.createdAt),
  lastUsedAt: isoOrNull(row.lastUsedAt),
});

export function createTokenRepo(db: Database) {
  return {
    async create(userId: string, name: string, tokenHash: string): Promise<Token> {
      const [row] = await db.insert(apiTokens).values({ userId, name, tokenHash }).returning();
      return toToken(row!);
    },
    async list(userId: string): Promise<Token[]> {
      const rows = await db
        .select()
        .from(apiTokens)
        .where(eq(apiTokens.userId, userId))
        .orderBy(desc(apiTokens.createdAt));
      return rows.map(toToken);
    },
    /** Returns whether a token was deleted. */
    async delete(userId: string, id: string): Promise<boolean> {
      const rows = await db
        .delete(apiTokens)
        .where(and(eq(apiTokens.id, id), eq(apiTokens.userId, userId)))
        .returning({ id: apiTokens.id });
      return rows.length > 0;
    },
    /** The user a token belongs to; records the use. */
    async findUser(tokenHash: string): Promise<{ id: string; username: string } | null> {
      const [row] = await db
        .update(apiTokens)
        .set({ lastUsedAt: new Date() })
        .from(users)
        .where(and(eq(apiTokens.tokenHash, tokenHash), eq(users.id, apiTokens.userId)))
        .returning({ id: users.id, username: users.username });
      return row ?? null;
    },
  };
}
export type TokenRepo = ReturnType<typeof createTokenRepo>;
