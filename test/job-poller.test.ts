/**
 * The media worker's job poller against a real SQS-compatible server (fauxqs, in process): jobs
 * are claimed while the next receive is already out, slots freed by claims that end without a
 * session are used again, and a job handed to a receive nobody reads any more comes back.
 */
import { randomBytes } from 'node:crypto';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SessionJob } from '@switchboard/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobPoller, type JobVerdict } from '../media-worker/src/jobs/job-poller.ts';
import { startLocalSqs, type LocalSqs } from '../scripts/stack/local-sqs.ts';

let sqs: LocalSqs;
let client: SQSClient;

beforeAll(async () => {
  sqs = await startLocalSqs({ queueName: `poller-${randomBytes(4).toString('hex')}` });
  client = new SQSClient({ region: 'us-east-1', endpoint: sqs.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});
afterAll(async () => {
  client?.destroy();
  await sqs?.stop();
});

const job = (): SessionJob => ({
  v: 1,
  sessionId: `s_${randomBytes(16).toString('hex')}`,
  kind: 'webrtc',
  createdAt: Date.now(),
  expiresAt: Date.now() + 60_000,
  controlToken: randomBytes(16).toString('hex'),
});
const send = (j: SessionJob) => client.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: JSON.stringify(j) }));

/** A claim the test decides: resolves when `decide` is called. */
interface PendingClaim {
  job: SessionJob;
  decide(v: JobVerdict): void;
}

function pollerWith(maxSlots: number, waitTimeS = 1, sqsClient = client) {
  const claims: PendingClaim[] = [];
  let claiming = 0;
  const waiters: Array<() => void> = [];
  const poller = new JobPoller({
    sqs: sqsClient,
    queueUrl: sqs.queueUrl,
    waitTimeS,
    visibilityS: 1,
    freeSlots: () => maxSlots - claiming,
    onJob: (j) => {
      claiming++; // counted synchronously, as the worker does
      return new Promise<JobVerdict>((resolve) => {
        claims.push({ job: j, decide: (v) => ((claiming--), resolve(v)) });
        for (const w of waiters.splice(0)) w();
      });
    },
  });
  const claimCount = async (n: number, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (claims.length < n) {
      if (Date.now() > deadline) throw new Error(`${claims.length} claim(s) after ${timeoutMs} ms, expected ${n}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 100);
      });
    }
    return claims;
  };
  return { poller, claims, claimCount };
}

describe('JobPoller on fauxqs', () => {
  it('claims a job that arrives while an earlier claim is still dialing (no wait for the batch before)', async () => {
    const { poller, claimCount, claims } = pollerWith(5);
    poller.start();
    try {
      const first = job();
      await send(first);
      await claimCount(1);
      const second = job();
      await send(second); // the first claim is still undecided
      await claimCount(2);
      expect(claims.map((c) => c.job.sessionId)).toEqual([first.sessionId, second.sessionId]);
    } finally {
      for (const c of claims) c.decide('decided');
      await poller.stop(2000);
    }
    expect(poller.stats.decided).toBe(2);
  });

  it('a claim that ends without a session frees its slot for the next job', async () => {
    const { poller, claimCount, claims } = pollerWith(1);
    poller.start();
    try {
      await send(job());
      await send(job());
      await claimCount(1);
      // One slot, taken by the claim in flight: the second job waits on the queue.
      await new Promise((r) => setTimeout(r, 1500));
      expect(claims).toHaveLength(1);
      claims[0]!.decide('decided'); // refused by the edge, say: no session, the slot is free again
      await claimCount(2);
    } finally {
      for (const c of claims) c.decide('decided');
      await poller.stop(2000);
    }
  });

  it('a job handed to an aborted long poll comes back for another worker within the claim visibility', async () => {
    // Worker A stops mid-poll and aborts its receive; the queue still holds that receive open and
    // hands it the next job, which nobody reads (the same as SQS: aws/aws-sdk-js#2350).
    const aClient = new SQSClient({ region: 'us-east-1', endpoint: sqs.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const a = pollerWith(5, 5, aClient);
    a.poller.start();
    await new Promise((r) => setTimeout(r, 300)); // A's receive is out
    await a.poller.stop(100);
    aClient.destroy();
    const lost = job();
    await send(lost);
    await new Promise((r) => setTimeout(r, 200));
    const b = pollerWith(5);
    b.poller.start();
    const t0 = Date.now();
    try {
      // The queue's own visibility timeout is 30 s: without the receive's short one, B would not
      // see the job within 10 s.
      const [claim] = await b.claimCount(1, 10_000);
      expect(claim!.job.sessionId).toBe(lost.sessionId);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(a.claims).toHaveLength(0);
    } finally {
      for (const c of b.claims) c.decide('decided');
      await b.poller.stop(2000);
    }
  });
});
