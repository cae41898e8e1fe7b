import { defineConfig } from 'vitest/config';

// One run over every package and example, on sources (the `@ofq/source` export condition),
// so no build is needed. A JSON report feeds `.ci/run`'s passed/failed line.
export default defineConfig({
  resolve: { conditions: ['@ofq/source'] },
  ssr: { resolve: { conditions: ['@ofq/source'], externalConditions: ['@ofq/source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'examples/*/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default', ['json', { outputFile: '.vitest/results.json' }]],
  },
});
