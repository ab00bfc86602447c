import { defineConfig } from 'vitest/config';

// The stream client tests run real timers against local WebSocket servers; timing assertions allow
// a few tens of ms of scheduling slack, so files run one at a time to keep CPU contention low.
export default defineConfig({
  test: { include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'], fileParallelism: false, testTimeout: 10_000 },
});
