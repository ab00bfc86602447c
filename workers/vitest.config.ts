import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

// Two projects: pure modules under Node (`src/**/*.test.ts`), and routes plus the Durable Object
// inside workerd (`test/**/*.test.ts`) through the Cloudflare Vitest plugin, against a real
// fauxqs and a protocol-level fake of Twilio's REST API started by the global setup.
export default defineConfig({
  test: {
    projects: [
      {
        test: { name: 'unit', include: ['src/**/*.test.ts'], environment: 'node' },
      },
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: './wrangler.jsonc' },
            miniflare: {
              bindings: {
                CONTROL_SECRET: 'test-control-secret',
                TWILIO_AUTH_TOKEN: 'test-twilio-auth-token',
                TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
                TWILIO_FROM: '+15550001111',
                TWILIO_API_BASE: inject<string>('twilioApiBase'),
                // The public key of RFC 8032's test vector 1 (test/support/telnyx.ts signs with its
                // published secret key): a key pair known before the Worker starts, and no secret.
                TELNYX_PUBLIC_KEY: '11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=',
                PLIVO_AUTH_TOKEN: 'test-plivo-auth-token',
                TOKEN_SECRET: 'test-token-secret',
                API_KEYS: 'key-one,key-two',
                SQS_QUEUE_URL: inject<string>('sqsQueueUrl'),
                SQS_ENDPOINT: inject<string>('sqsEndpoint'),
                AWS_ACCESS_KEY_ID: 'test',
                AWS_SECRET_ACCESS_KEY: 'test',
                CLAIM_TIMEOUT_MS: '2000',
                PHONE_WAIT_MS: '7000',
                // The tests claim after the webhook has answered: a short wait keeps them quick.
                PHONE_WEBHOOK_WAIT_MS: '300',
                // Tests open many sessions from one address; client-limits.test.ts sets its own limit.
                MAX_SESSIONS_PER_CLIENT: '1000',
              },
              ratelimits: { TIGHT_LIMITER: { namespace_id: '9001', simple: { limit: 2, period: 60 } } },
            },
          })),
        ],
        test: {
          name: 'workerd',
          include: ['test/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 20_000,
        },
      },
    ],
  },
});
