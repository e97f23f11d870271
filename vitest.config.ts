import { availableParallelism } from 'node:os'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'packages/*/src/**/*.test.tsx',
      'packages/*/test/**/*.test.ts',
      'examples/*/**/*.test.ts',
    ],
    globalSetup: ['packages/server/src/test-support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default leaves a core idle on a two-core machine; half the suite waits on
    // PostgreSQL, sockets and child processes, so two files at a time keep both busy.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
})
