import { defineConfig } from 'drizzle-kit';

/** Migrations are generated from packages/db's schema: `pnpm --filter @syncengine/db db:generate`. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './packages/db/src/schema/*.ts',
  out: './migrations',
});
