import { defineConfig } from 'vitest/config';

// One file at a time (vitest's default on the 2-core CI machine). Four at once took the suite from
// 244 to 79 s, but tests that time real worker processes, werift peers and the event loop overran
// their limits beside other files in CI runs (a data-channel flood, process-error handling).
export default defineConfig({
  test: { include: ['src/**/*.test.ts'] },
});
