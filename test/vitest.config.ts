import { defineConfig } from 'vitest/config';

// Cross-package tests. `e2e/` runs against the real local stack (fauxqs + the edge under
// wrangler dev) started once by its global setup; its files run one at a time (one shared queue).
// `deploy/` checks the deploy artefacts (media-worker/Dockerfile, replayed outside Docker): slow (npm ci).
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'cross', include: ['*.test.ts'], testTimeout: 30_000 } },
      { test: { name: 'deploy', include: ['deploy/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 300_000 } },
      {
        test: {
          name: 'e2e',
          include: ['e2e/**/*.test.ts'],
          globalSetup: ['support/stack.ts'],
          fileParallelism: false,
          testTimeout: 30_000,
          hookTimeout: 90_000,
        },
      },
    ],
  },
});
