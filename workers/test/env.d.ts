import type { Env as EdgeEnv } from '../src/env.ts';

declare global {
  namespace Cloudflare {
    interface Env extends EdgeEnv {
      SQS_ENDPOINT: string;
      SQS_QUEUE_URL: string;
      TIGHT_LIMITER: RateLimit;
    }
  }
}
