import { defineConfig } from 'vitest/config';

// template/src holds the scaffold's own test, run in a scaffolded project (test/packaging), not here.
export default defineConfig({
  test: { include: ['src/**/*.test.ts'] },
});
