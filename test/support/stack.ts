import type { TestProject } from 'vitest/node';
import { startEdge } from '../../scripts/stack/edge.ts';
import { edgeVarsFromEnv } from '../../scripts/stack/config.ts';
import { startLocalSqs } from '../../scripts/stack/local-sqs.ts';
import { freePort } from '../../scripts/stack/ports.ts';
import { startFakeTwilioApi } from '../../scripts/stack/twilio-api-fake.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    edgeUrl: string;
    edgeStartupMs: number;
    sqsEndpoint: string;
    sqsQueueUrl: string;
    controlSecret: string;
    twilioAuthToken: string;
    twilioApiBase: string;
  }
}

export const CONTROL_SECRET = 'e2e-control-secret';
export const TWILIO_AUTH_TOKEN = 'e2e-twilio-auth-token';

/**
 * The real local stack for end-to-end tests: fauxqs plus the edge under wrangler dev (workerd),
 * and a protocol-level fake of Twilio's REST API for outbound calls (Twilio is not reachable here).
 */
export default async function setup(project: TestProject) {
  const sqs = await startLocalSqs({ queueName: 'e2e-jobs' });
  const twilioApi = await startFakeTwilioApi();
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
      CLAIM_TIMEOUT_MS: '3000',
      // The tests open many sessions from this one address.
      MAX_SESSIONS_PER_CLIENT: '1000',
    }),
  });
  project.provide('edgeUrl', edge.url);
  project.provide('edgeStartupMs', edge.startupMs);
  project.provide('sqsEndpoint', sqs.endpoint);
  project.provide('sqsQueueUrl', sqs.queueUrl);
  project.provide('controlSecret', CONTROL_SECRET);
  project.provide('twilioAuthToken', TWILIO_AUTH_TOKEN);
  project.provide('twilioApiBase', twilioApi.url);
  return async () => {
    await edge.stop();
    await sqs.stop();
    await new Promise((r) => twilioApi.server.close(r));
  };
}
