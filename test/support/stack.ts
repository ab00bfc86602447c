import type { TestProject } from 'vitest/node';
import { startEdge } from '../../scripts/stack/edge.ts';
import { LOCAL_DEFAULTS, edgeVarsFromEnv } from '../../scripts/stack/config.ts';
import { startLocalSqs } from '../../scripts/stack/local-sqs.ts';
import { freePort } from '../../scripts/stack/ports.ts';
import { startFakePlivoApi } from '../../scripts/stack/plivo-api-fake.ts';
import { startFakeTelnyxApi } from '../../scripts/stack/telnyx-api-fake.ts';
import { startFakeTwilioApi } from '../../scripts/stack/twilio-api-fake.ts';

/** What a test file needs of its stack (support/inject.ts hands out the one of its worker slot). */
export interface StackContext {
  edgeUrl: string;
  sqsEndpoint: string;
  sqsQueueUrl: string;
  controlSecret: string;
  twilioAuthToken: string;
  twilioApiBase: string;
  telnyxApiBase: string;
  plivoApiBase: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** One stack per worker slot of the project (VITEST_POOL_ID 1..maxWorkers). */
    stacks: StackContext[];
  }
}

export const CONTROL_SECRET = 'e2e-control-secret';
export const TWILIO_AUTH_TOKEN = 'e2e-twilio-auth-token';

interface RunningStack {
  context: StackContext;
  stop(): Promise<void>;
}

/**
 * One real local stack: fauxqs plus the edge under wrangler dev (workerd), and protocol-level
 * fakes of Twilio's, Telnyx's and Plivo's REST APIs for outbound calls (they are not reachable
 * here). Telnyx's and Plivo's webhook keys are the local defaults, which the caller simulator
 * signs with. A stack serves one test file at a time: its queue is shared by every worker the
 * file starts, and a worker of another file would claim its jobs.
 */
async function startStack(): Promise<RunningStack> {
  const sqs = await startLocalSqs({ queueName: 'e2e-jobs' });
  const twilioApi = await startFakeTwilioApi();
  const telnyxApi = await startFakeTelnyxApi();
  const plivoApi = await startFakePlivoApi({ authId: LOCAL_DEFAULTS.PLIVO_AUTH_ID!, authToken: LOCAL_DEFAULTS.PLIVO_AUTH_TOKEN! });
  const port = await freePort();
  const edge = await startEdge({
    port,
    quiet: true,
    vars: edgeVarsFromEnv({}, {
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      SQS_QUEUE_URL: sqs.queueUrl,
      SQS_ENDPOINT: sqs.endpoint,
      CONTROL_SECRET,
      TWILIO_AUTH_TOKEN,
      TWILIO_API_BASE: twilioApi.url,
      TWILIO_FROM: '+15550100000',
      TELNYX_API_BASE: telnyxApi.url,
      TELNYX_API_KEY: 'e2e-telnyx-api-key',
      TELNYX_APP_ID: 'e2e-texml-app',
      TELNYX_FROM: '+15550100100',
      PLIVO_API_BASE: plivoApi.url,
      PLIVO_FROM: '15550100200',
      CLAIM_TIMEOUT_MS: '3000',
      // The tests open many sessions from this one address.
      MAX_SESSIONS_PER_CLIENT: '1000',
    }),
  });
  return {
    context: {
      edgeUrl: edge.url,
      sqsEndpoint: sqs.endpoint,
      sqsQueueUrl: sqs.queueUrl,
      controlSecret: CONTROL_SECRET,
      twilioAuthToken: TWILIO_AUTH_TOKEN,
      twilioApiBase: twilioApi.url,
      telnyxApiBase: telnyxApi.url,
      plivoApiBase: plivoApi.url,
    },
    async stop() {
      await edge.stop();
      await sqs.stop();
      for (const api of [twilioApi, telnyxApi, plivoApi]) await new Promise((r) => api.server.close(r));
    },
  };
}

// The e2e projects (one file at a time, and two at a time) share their stacks: the first
// setup starts them, the last teardown stops them. Kept on globalThis, since each project may
// load this module on its own.
const POOL = Symbol.for('switchboard.e2e.stacks');
interface StackPool {
  stacks: Promise<RunningStack>[];
  users: number;
}
const pool = ((globalThis as Record<symbol, StackPool | undefined>)[POOL] ??= { stacks: [], users: 0 });

/** Global setup of an e2e project: a stack for each of its worker slots, started side by side. */
export default async function setup(project: TestProject) {
  const slots = Math.max(1, Number(project.config.maxWorkers) || 1);
  while (pool.stacks.length < slots) pool.stacks.push(startStack());
  pool.users++;
  const running = await Promise.all(pool.stacks.slice(0, slots));
  project.provide('stacks', running.map((s) => s.context));
  return async () => {
    if (--pool.users > 0) return;
    const all = await Promise.all(pool.stacks.splice(0));
    for (const s of all) await s.stop();
  };
}
