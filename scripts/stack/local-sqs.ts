import { buildApp } from 'fauxqs';

export interface LocalSqs {
  endpoint: string;
  queueUrl: string;
  stop(): Promise<void>;
}

/**
 * fauxqs (an SQS-compatible server) bound to 127.0.0.1 only, with the job queue created.
 * `startFauxqs` listens on every interface; building its app and listening here keeps it local.
 */
export async function startLocalSqs(opts: { port?: number; queueName?: string; region?: string } = {}): Promise<LocalSqs> {
  const app = buildApp({ logger: false });
  await app.listen({ port: opts.port ?? 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const endpoint = `http://127.0.0.1:${port}`;
  const res = await fetch(endpoint + '/', {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.0',
      'X-Amz-Target': 'AmazonSQS.CreateQueue',
      // fauxqs reads the region from the SigV4 scope; any credentials are accepted.
      Authorization: `AWS4-HMAC-SHA256 Credential=local/20260101/${opts.region ?? 'us-east-1'}/sqs/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify({ QueueName: opts.queueName ?? 'switchboard-jobs', Attributes: { VisibilityTimeout: '30' } }),
  });
  if (!res.ok) throw new Error(`fauxqs CreateQueue failed: ${res.status} ${await res.text()}`);
  const { QueueUrl } = (await res.json()) as { QueueUrl: string };
  return { endpoint, queueUrl: QueueUrl, stop: () => app.close() };
}
