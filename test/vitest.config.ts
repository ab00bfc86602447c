import { defineConfig } from 'vitest/config';

// Cross-package tests. `e2e/` runs against the real local stack (fauxqs + the edge under
// wrangler dev) started once by its global setup; its files run one at a time (one shared queue).
// `deploy/` checks the deploy artefacts (media-worker/Dockerfile, replayed outside Docker): slow (npm ci).
// `packaging/` builds the npm packages and installs them in a scaffolded project: slow (npm install).
// The four run one after another (sequence.groupOrder): the deploy replay (npm ci) ran beside the
// e2e files, and the 20-call phone test, timing-sensitive on 2 cores, failed twice in CI while it
// did (it passes alone).
export default defineConfig({
  test: {
    // `cross` files wait on child processes and sockets more than they compute: four at once took
    // them from 46 to 15 s on the 2-core CI machine (vitest's default there is one at a time).
    // e2e files still run one at a time (fileParallelism), npm installs gain nothing from it.
    maxWorkers: 4,
    projects: [
      { test: { name: 'cross', include: ['*.test.ts'], testTimeout: 30_000, sequence: { groupOrder: 0 } } },
      { test: { name: 'deploy', include: ['deploy/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 300_000, sequence: { groupOrder: 2 } } },
      // Packs the npm packages, scaffolds a project from them and installs it (about 1.5 minutes).
      { test: { name: 'packaging', include: ['packaging/**/*.test.ts'], testTimeout: 150_000, hookTimeout: 240_000, sequence: { groupOrder: 3 } } },
      {
        test: {
          name: 'e2e',
          include: ['e2e/**/*.test.ts'],
          globalSetup: ['support/stack.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
          testTimeout: 30_000,
          hookTimeout: 90_000,
        },
      },
    ],
  },
});
