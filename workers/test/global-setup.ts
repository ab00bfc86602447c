import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { bundleWebClient } from '../../client/scripts/bundle.ts';
import { startLocalSqs } from '../../scripts/stack/local-sqs.ts';
import { startFakeTwilioApi } from '../../scripts/stack/twilio-api-fake.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    sqsEndpoint: string;
    sqsQueueUrl: string;
    twilioApiBase: string;
  }
}

/** Real fauxqs and the Twilio API fake, on 127.0.0.1, for the Worker under test. */
export default async function setup(project: TestProject) {
  // The demo page serves the browser SDK's bundle (wrangler's build step makes it for dev and deploy).
  const generated = join(import.meta.dirname, '../generated');
  mkdirSync(generated, { recursive: true });
  writeFileSync(join(generated, 'client.js'), (await bundleWebClient()).code);
  const sqs = await startLocalSqs({ queueName: 'edge-test-jobs' });
  const twilio = await startFakeTwilioApi();
  project.provide('sqsEndpoint', sqs.endpoint);
  project.provide('sqsQueueUrl', sqs.queueUrl);
  project.provide('twilioApiBase', twilio.url);
  return async () => {
    await sqs.stop();
    await new Promise((r) => twilio.server.close(r));
  };
}
