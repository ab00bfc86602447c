/**
 * The job poller's deletes against a real SQS-compatible server (fauxqs, in process): jobs decided
 * close together share one DeleteMessageBatch call, ten go out without waiting, and a delete SQS
 * refuses (an entry, or the whole call) is logged without failing its caller.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteBatcher } from '../media-worker/src/jobs/delete-batcher.ts';
import { startLocalSqs, type LocalSqs } from '../scripts/stack/local-sqs.ts';

let sqs: LocalSqs;
let client: SQSClient;
/** Entries per DeleteMessageBatch call the client made. */
const batches: number[] = [];

beforeAll(async () => {
  sqs = await startLocalSqs({ queueName: `deletes-${randomBytes(4).toString('hex')}` });
  client = new SQSClient({ region: 'us-east-1', endpoint: sqs.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'DeleteMessageBatchCommand') batches.push((args.input as { Entries: unknown[] }).Entries.length);
      return next(args);
    },
    { step: 'initialize' },
  );
});
afterAll(async () => {
  client?.destroy();
  await sqs?.stop();
});

/** Puts `n` messages on the queue and receives them (hidden for 2 s): their receipt handles. */
async function received(n: number): Promise<string[]> {
  for (let i = 0; i < n; i += 10) {
    const entries = Array.from({ length: Math.min(10, n - i) }, (_, k) => ({ Id: String(k), MessageBody: `m${i + k}` }));
    await client.send(new SendMessageBatchCommand({ QueueUrl: sqs.queueUrl, Entries: entries }));
  }
  const handles: string[] = [];
  while (handles.length < n) {
    const r = await client.send(new ReceiveMessageCommand({ QueueUrl: sqs.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 2 }));
    for (const m of r.Messages ?? []) handles.push(m.ReceiptHandle!);
  }
  return handles;
}

/** Messages visible on the queue after their 2 s visibility ran out (none, once all are deleted). */
async function leftAfterVisibility(): Promise<number> {
  await new Promise((r) => setTimeout(r, 2200));
  const r = await client.send(new ReceiveMessageCommand({ QueueUrl: sqs.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
  return r.Messages?.length ?? 0;
}

describe('DeleteBatcher', () => {
  it('deletes jobs decided within the linger in one DeleteMessageBatch call', async () => {
    const handles = await received(4);
    const logs: string[] = [];
    const d = new DeleteBatcher({ sqs: client, queueUrl: sqs.queueUrl, lingerMs: 50, log: (m) => logs.push(m) });
    batches.length = 0;
    const first = d.delete(handles[0]!);
    await new Promise((r) => setTimeout(r, 10));
    await Promise.all([first, ...handles.slice(1).map((h) => d.delete(h))]);
    expect(batches).toEqual([4]);
    expect(logs).toEqual([]);
    expect(await leftAfterVisibility()).toBe(0);
  });

  it('sends ten at once without waiting for the linger, the rest after it', async () => {
    const handles = await received(12);
    const d = new DeleteBatcher({ sqs: client, queueUrl: sqs.queueUrl, lingerMs: 1000, log: () => {} });
    batches.length = 0;
    const started = performance.now();
    const ten = handles.slice(0, 10).map((h) => d.delete(h));
    await Promise.all(ten);
    expect(batches).toEqual([10]);
    expect(performance.now() - started).toBeLessThan(900);
    const rest = handles.slice(10).map((h) => d.delete(h));
    await Promise.all(rest);
    expect(batches).toEqual([10, 2]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(1000);
    expect(await leftAfterVisibility()).toBe(0);
  });

  it('logs an entry SQS refuses and still resolves its delete', async () => {
    // fauxqs, like SQS, accepts any receipt handle on delete, so this one call is answered by a
    // server that speaks SQS's JSON protocol and refuses the second entry, as SQS documents it.
    const seen: unknown[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ target: req.headers['x-amz-target'], body: JSON.parse(body) });
        res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.0', 'x-amzn-RequestId': 'r1' });
        res.end(JSON.stringify({ Successful: [{ Id: '0' }], Failed: [{ Id: '1', SenderFault: true, Code: 'ReceiptHandleIsInvalid', Message: 'The input receipt handle is invalid.' }] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const refusing = new SQSClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${port}`, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    try {
      const logs: string[] = [];
      const d = new DeleteBatcher({ sqs: refusing, queueUrl: `http://127.0.0.1:${port}/000000000000/q`, lingerMs: 5, log: (m) => logs.push(m) });
      await Promise.all([d.delete('good'), d.delete('bad')]);
      expect(seen).toEqual([
        { target: 'AmazonSQS.DeleteMessageBatch', body: expect.objectContaining({ Entries: [{ Id: '0', ReceiptHandle: 'good' }, { Id: '1', ReceiptHandle: 'bad' }] }) },
      ]);
      expect(logs).toEqual(['delete failed: ReceiptHandleIsInvalid: The input receipt handle is invalid.']);
    } finally {
      refusing.destroy();
      server.close();
    }
  });

  it('logs a call that fails as a whole (queue gone) and resolves its deletes', async () => {
    const logs: string[] = [];
    const d = new DeleteBatcher({ sqs: client, queueUrl: `${sqs.queueUrl}-missing`, lingerMs: 5, log: (m) => logs.push(m) });
    await Promise.all([d.delete('a'), d.delete('b')]);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/^delete failed \(2 messages\): /);
  });
});
