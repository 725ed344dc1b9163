import type { Token } from '@syncengine/contracts';
import { and, desc, eq } from 'drizzle-orm';
import type { Database } from '../database.js';
import { apiTokens, users } from '../schema/index.js';
import { iso, isoOrNull } from './errors.js';

/** How precisely `lastUsedAt` is kept. */
const LAST_USED_RESOLUTION_MS = 60_000;

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
    /**
     * The user a token belongs to. Records the use, at most once a minute per token, so
     * that authenticating is a read and not a write on every request.
     */
    async findUser(tokenHash: string): Promise<{ id: string; username: string } | null> {
      const [row] = await db
        .select({
          id: users.id,
          username: users.username,
          tokenId: apiTokens.id,
          lastUsedAt: apiTokens.lastUsedAt,
        })
        .from(apiTokens)
        .innerJoin(users, eq(users.id, apiTokens.userId))
        .where(eq(apiTokens.tokenHash, tokenHash));
      if (!row) return null;
      const now = Date.now();
      if (!row.lastUsedAt || now - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
        await db
          .update(apiTokens)
          .set({ lastUsedAt: new Date(now) })
          .where(eq(apiTokens.id, row.tokenId));
      }
      return { id: row.id, username: row.username };
    },
  };
}
export type TokenRepo = ReturnType<typeof createTokenRepo>;
