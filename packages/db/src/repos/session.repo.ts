import { and, eq, gt, lt } from 'drizzle-orm';
import type { Database } from '../database.js';
import { sessions, users } from '../schema/index.js';

export function createSessionRepo(db: Database) {
  return {
    async create(tokenHash: string, userId: string, expiresAt: Date): Promise<void> {
      await db.insert(sessions).values({ tokenHash, userId, expiresAt });
    },
    /** The user of a session that has not expired, with when the session expires. */
    async findUser(tokenHash: string): Promise<{ id: string; username: string; expiresAt: Date } | null> {
      const [row] = await db
        .select({ id: users.id, username: users.username, expiresAt: sessions.expiresAt })
        .from(sessions)
        .innerJoin(users, eq(users.id, sessions.userId))
        .where(and(eq(sessions.tokenHash, tokenHash), gt(sessions.expiresAt, new Date())));
      return row ?? null;
    },
    async delete(tokenHash: string): Promise<void> {
      await db.delete(sessions).where(eq(sessions.tokenHash, tokenHash));
    },
    /** Ends every session of the user (after a password reset). */
    async deleteForUser(userId: string): Promise<void> {
      await db.delete(sessions).where(eq(sessions.userId, userId));
    },
    async deleteExpired(): Promise<void> {
      await db.delete(sessions).where(lt(sessions.expiresAt, new Date()));
    },
  };
}
export type SessionRepo = ReturnType<typeof createSessionRepo>;
