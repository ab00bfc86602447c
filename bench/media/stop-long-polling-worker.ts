import { randomBytes } from 'node:crypto';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SessionJob } from '@switchboard/protocol';
import type { LocalSqs } from '../../scripts/stack/local-sqs.ts';
import type { LocalWorker } from '../../scripts/stack/media-worker.ts';

/**
 * Stops a worker that long-polls the queue (SQS_WAIT_S 20) without leaving its receive behind.
 * A stopping worker lets its poll in flight run out and puts back what it brings (JobPoller.stop);
 * if the stop bound aborts the poll first, the queue still holds that receive open and hands it
 * the next job, which then stays hidden for the receive's visibility timeout: the next section's
 * first session would wait seconds for it. So once the worker is draining, one already-expired
 * job is sent: the poll returns with it at once, the worker puts it back and exits, and whichever
 * worker gets it next deletes it unclaimed.
 */
export async function stopLongPollingWorker(worker: LocalWorker, sqs: LocalSqs): Promise<void> {
  const stopped = worker.stop();
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const ready = await fetch(`${worker.url}/readyz`).then((r) => r.status === 200, () => false);
    if (!ready) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const client = new SQSClient({ region: 'us-east-1', endpoint: sqs.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const now = Date.now();
  const expired: SessionJob = { v: 1, sessionId: `s_${randomBytes(16).toString('hex')}`, kind: 'webrtc', createdAt: now - 2, expiresAt: now - 1, controlToken: randomBytes(16).toString('hex') };
  try {
    await client.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: JSON.stringify(expired) }));
  } finally {
    client.destroy();
  }
  await stopped;
}
