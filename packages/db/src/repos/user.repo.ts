import { count, eq } from 'drizzle-orm';
import type { Database } from '../database.js';
import { users } from '../schema/index.js';

export interface UserRecord {
  id: string;
  username: string;
  passwordHash: string;
}

export function createUserRepo(db: Database) {
  return {
    async findByUsername(username: string): Promise<UserRecord | null> {
      const [row] = await db.select().from(users).where(eq(users.username, username));
      return row ?? null;
    },
    async findById(id: string): Promise<UserRecord | null> {
      const [row] = await db.select().from(users).where(eq(users.id, id));
      return row ?? null;
    },
    async count(): Promise<number> {
      const [row] = await db.select({ n: count() }).from(users);
      return row?.n ?? 0;
    },
    /** Creates the user unless the name is taken; returns whether it was created. */
    async createIfAbsent(username: string, passwordHash: string): Promise<boolean> {
      const rows = await db
        .insert(users)
        .values({ username, passwordHash })
        .onConflictDoNothing({ target: users.username })
        .returning({ id: users.id });
      return rows.length > 0;
    },
    /** Sets the user's password hash, creating the user when absent. */
    async setPasswordHash(username: string, passwordHash: string): Promise<void> {
      await db
        .insert(users)
        .values({ username, passwordHash })
        .onConflictDoUpdate({ target: users.username, set: { passwordHash } });
    },
  };
}
export type UserRepo = ReturnType<typeof createUserRepo>;
