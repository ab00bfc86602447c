import { env } from 'cloudflare:test';
import { AwsClient } from 'aws4fetch';
import { parseSessionJob, type SessionJob } from '@switchboard/protocol';

const aws = new AwsClient({ accessKeyId: 'test', secretAccessKey: 'test', service: 'sqs', region: 'us-east-1' });

async function call<T>(action: string, body: object): Promise<T> {
  const res = await aws.fetch(env.SQS_ENDPOINT + '/', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': `AmazonSQS.${action}` },
    body: JSON.stringify({ QueueUrl: env.SQS_QUEUE_URL, ...body }),
  });
  if (!res.ok) throw new Error(`SQS ${action}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export interface Received {
  job: SessionJob;
  receiptHandle: string;
}

/** ReceiveMessage on the real fauxqs queue the edge sends to; what it returns is hidden for 30 s, not gone. */
async function receiveJobs(max = 10, waitS = 0): Promise<Received[]> {
  const r = await call<{ Messages?: { Body: string; ReceiptHandle: string }[] }>('ReceiveMessage', {
    MaxNumberOfMessages: max,
    WaitTimeSeconds: waitS,
    VisibilityTimeout: 30,
  });
  return (r.Messages ?? []).map((m) => ({ job: parseSessionJob(m.Body), receiptHandle: m.ReceiptHandle }));
}

/**
 * Takes the jobs on the queue now (waiting up to `waitS` for the first), deleting them: a job only
 * received would come back 30 s later, in whichever test file runs then.
 */
export async function takeJobs(max = 10, waitS = 0): Promise<Received[]> {
  const got = await receiveJobs(max, waitS);
  for (const g of got) await deleteJob(g.receiptHandle);
  return got;
}

export async function deleteJob(receiptHandle: string): Promise<void> {
  await call('DeleteMessage', { ReceiptHandle: receiptHandle });
}

/** Removes every job left on the queue (tests run one file at a time against one queue). */
export async function drainQueue(): Promise<void> {
  for (;;) {
    const got = await receiveJobs(10, 0);
    if (got.length === 0) return;
    for (const g of got) await deleteJob(g.receiptHandle);
  }
}

/** Waits for the next job (optionally for one session), deleting it from the queue. */
export async function nextJob(sessionId?: string, timeoutMs = 5000): Promise<SessionJob> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const g of await receiveJobs(10, 1)) {
      await deleteJob(g.receiptHandle);
      if (!sessionId || g.job.sessionId === sessionId) return g.job;
    }
  }
  throw new Error(`no job${sessionId ? ` for ${sessionId}` : ''} within ${timeoutMs} ms`);
}
