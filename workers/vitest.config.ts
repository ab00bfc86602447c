import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

// Two projects: pure modules under Node (`src/**/*.test.ts`), and routes plus the Durable Object
// inside workerd (`test/**/*.test.ts`) through the Cloudflare Vitest plugin.
export default defineConfig({
  test: {
    projects: [
      {
        test: { name: 'unit', include: ['src/**/*.test.ts'], environment: 'node' },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.jsonc' },
            miniflare: {
              bindings: {
                CONTROL_SECRET: 'test-control-secret',
                TWILIO_AUTH_TOKEN: 'test-twilio-auth-token',
                TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
              },
            },
          }),
        ],
        test: { name: 'workerd', include: ['test/**/*.test.ts'] },
      },
    ],
  },
});
