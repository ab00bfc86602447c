import { AwsClient } from 'aws4fetch';
import type { SessionJob } from '@switchboard/protocol';
import type { Config } from '../config.ts';
import { requireSetting } from '../config.ts';
import { badGateway } from '../errors.ts';
import { withDeadline } from '../http/deadline.ts';

/**
 * Sends session jobs to SQS over its JSON protocol (`AmazonSQS.SendMessage`), signed with SigV4 by
 * aws4fetch: a few KB in the Worker bundle against hundreds for `@aws-sdk/client-sqs`.
 * `SQS_ENDPOINT` overrides the endpoint (locally fauxqs); otherwise the queue URL's origin is used.
 */
export async function sendJob(config: Config, job: SessionJob, fetchFn: typeof fetch = fetch): Promise<void> {
  const queueUrl = requireSetting(config.SQS_QUEUE_URL, 'SQS_QUEUE_URL');
  const endpoint = config.SQS_ENDPOINT || new URL(queueUrl).origin;
  const aws = new AwsClient({
    accessKeyId: requireSetting(config.AWS_ACCESS_KEY_ID, 'AWS_ACCESS_KEY_ID'),
    secretAccessKey: requireSetting(config.AWS_SECRET_ACCESS_KEY, 'AWS_SECRET_ACCESS_KEY'),
    service: 'sqs',
    region: config.AWS_REGION,
    retries: 2,
  });
  // A 5 s limit whose timer ends with the request (withDeadline): the session's object sends the job.
  const failure = await withDeadline(5000, async (signal) => {
    let res: Response;
    try {
      const req = await aws.sign(endpoint.replace(/\/+$/, '') + '/', {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': 'AmazonSQS.SendMessage' },
        body: JSON.stringify({ QueueUrl: queueUrl, MessageBody: JSON.stringify(job) }),
      });
      res = await fetchFn(req, { signal });
    } catch (err) {
      return `could not reach the job queue: ${(err as Error).message}`;
    }
    if (!res.ok) return `job queue answered ${res.status}: ${(await res.text()).slice(0, 300)}`;
    await res.body?.cancel();
    return null;
  });
  if (failure) throw badGateway(failure);
}
