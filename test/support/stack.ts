import type { TestProject } from 'vitest/node';
import { startEdge } from '../../scripts/stack/edge.ts';
import { LOCAL_DEFAULTS, edgeVarsFromEnv } from '../../scripts/stack/config.ts';
import { startLocalSqs } from '../../scripts/stack/local-sqs.ts';
import { freePort } from '../../scripts/stack/ports.ts';
import { startFakePlivoApi } from '../../scripts/stack/plivo-api-fake.ts';
import { startFakeTelnyxApi } from '../../scripts/stack/telnyx-api-fake.ts';
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
    telnyxApiBase: string;
    plivoApiBase: string;
  }
}

export const CONTROL_SECRET = 'e2e-control-secret';
export const TWILIO_AUTH_TOKEN = 'e2e-twilio-auth-token';

/**
 * The real local stack for end-to-end tests: fauxqs plus the edge under wrangler dev (workerd),
 * and protocol-level fakes of Twilio's, Telnyx's and Plivo's REST APIs for outbound calls (they
 * are not reachable here). Telnyx's and Plivo's webhook keys are the local defaults, which the
 * caller simulator signs with.
 */
export default async function setup(project: TestProject) {
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
  project.provide('edgeUrl', edge.url);
  project.provide('edgeStartupMs', edge.startupMs);
  project.provide('sqsEndpoint', sqs.endpoint);
  project.provide('sqsQueueUrl', sqs.queueUrl);
  project.provide('controlSecret', CONTROL_SECRET);
  project.provide('twilioAuthToken', TWILIO_AUTH_TOKEN);
  project.provide('twilioApiBase', twilioApi.url);
  project.provide('telnyxApiBase', telnyxApi.url);
  project.provide('plivoApiBase', plivoApi.url);
  return async () => {
    await edge.stop();
    await sqs.stop();
    for (const api of [twilioApi, telnyxApi, plivoApi]) await new Promise((r) => api.server.close(r));
  };
}
