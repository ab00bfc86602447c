import { defineConfig } from 'vitest/config';

// Cross-package tests. `e2e/` runs against real local stacks (fauxqs + the edge under wrangler
// dev), one per worker slot, started once by the global setup (support/stack.ts); a stack serves
// one file at a time (its queue is shared by the file's workers).
// `deploy/` checks the deploy artefacts (media-worker/Dockerfile, replayed outside Docker): slow (npm ci).
// `packaging/` builds the npm packages and installs them in a scaffolded project: slow (npm install).
// The groups run one after another (sequence.groupOrder): the deploy replay (npm ci) ran beside the
// e2e files, and the 20-call phone test, timing-sensitive on 2 cores, failed twice in CI while it
// did (it passes alone).

// e2e files that load the CPU (Chromium, 20 concurrent calls, floods, speech recognition, the
// aiortc baseline) or time barge-in closely run alone; the others, mostly waiting on real-time
// audio, run two at a time, each on its own stack.
const E2E_ALONE = [
  'aiortc-baseline', 'assistant', 'browser-call', 'browser-legs', 'browser-resume', 'browser-sdk',
  'data-channel-abuse', 'legs-resilience', 'nat-fallback', 'phone-call', 'phone-providers-load',
  'strict-firewall', 'stream-client', 'turn-relay', 'webrtc-echo',
].map((name) => `e2e/${name}.test.ts`);

const e2e = { globalSetup: ['support/stack.ts'], testTimeout: 30_000, hookTimeout: 90_000 };

export default defineConfig({
  test: {
    // `cross` files wait on child processes and sockets more than they compute: four at once took
    // them from 46 to 15 s on the 2-core CI machine (vitest's default there is one at a time).
    maxWorkers: 4,
    projects: [
      { test: { name: 'cross', include: ['*.test.ts'], testTimeout: 30_000, sequence: { groupOrder: 0 } } },
      { test: { name: 'e2e', include: E2E_ALONE, maxWorkers: 1, sequence: { groupOrder: 1 }, ...e2e } },
      // Two at a time: 229 s of files one after another took 135 s.
      { test: { name: 'e2e-pairs', include: ['e2e/**/*.test.ts'], exclude: E2E_ALONE, maxWorkers: 2, sequence: { groupOrder: 2 }, ...e2e } },
      { test: { name: 'deploy', include: ['deploy/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 300_000, sequence: { groupOrder: 3 } } },
      // Packs the npm packages, scaffolds a project from them and installs it (about 1.5 minutes).
      { test: { name: 'packaging', include: ['packaging/**/*.test.ts'], testTimeout: 150_000, hookTimeout: 240_000, sequence: { groupOrder: 4 } } },
    ],
  },
});
