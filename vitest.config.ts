import { defineConfig } from 'vitest/config';

/**
 * One Vitest run over the whole workspace. Workspace packages resolve to their
 * TypeScript sources through the `source` export condition, so tests never need
 * a build first.
 */
const conditions = ['source', 'module', 'node', 'development|production'];
// Tests run in Node, which must not follow the bundler-only `module` condition: packages
// such as the AWS SDK point it at extension-less ESM that Node cannot load.
const nodeConditions = conditions.filter((condition) => condition !== 'module');

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions: nodeConditions, externalConditions: ['source'] } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [
            'packages/*/src/**/*.test.ts',
            'packages/*/test/**/*.test.ts',
            'apps/*/src/**/*.test.ts',
            'bench/**/*.test.ts',
            'deploy/**/*.test.ts',
          ],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
          environment: 'node',
        },
      },
      {
        extends: true,
        test: {
          name: 'web',
          include: ['apps/web/src/**/*.test.tsx'],
          environment: 'happy-dom',
          setupFiles: ['apps/web/src/test/setup.ts'],
          // The form tests type field by field through user-event: seconds each on a busy
          // 2-core machine. The timeout only guards against a hang.
          testTimeout: 20_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: [
            'packages/*/src/**/*.int.test.ts',
            'packages/*/test/**/*.int.test.ts',
            'apps/*/src/**/*.int.test.ts',
            'deploy/**/*.int.test.ts',
          ],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Integration files share one Postgres and one Redis; each file isolates itself
          // (its own schema / key prefix), but running them one at a time keeps the
          // 2-core CI machine responsive.
          fileParallelism: false,
        },
      },
    ],
  },
});
