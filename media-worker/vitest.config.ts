import { defineConfig } from 'vitest/config';

// Files run after the rest, alone: one measures the event loop's own delay (beside other files a
// preemption reads as the loop blocked); one floods a real werift data channel within the default
// 5 s test timeout, which it overran once beside three other files in CI.
const ALONE = ['src/voice/say.test.ts', 'src/transport/webrtc/webrtc-transport-abuse.test.ts'];

export default defineConfig({
  test: {
    // Most files wait on real time (sockets, timers, child processes) more than they compute:
    // four at once on the 2-core CI machine took the suite from 244 s to 79 s (vitest's default
    // there is one at a time).
    maxWorkers: 4,
    projects: [
      { extends: true, test: { name: 'unit', include: ['src/**/*.test.ts'], exclude: ALONE, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'alone', include: ALONE, sequence: { groupOrder: 1 } } },
    ],
  },
});
