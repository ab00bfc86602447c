import { spawn } from 'node:child_process';
import { buildApp } from 'fauxqs';
import { collectOutput } from './child-output.ts';
import { wrapped } from './ports.ts';

export interface LocalSqs {
  endpoint: string;
  queueUrl: string;
  /** The serving process's pid when it runs in a child of its own (startLocalSqsProcess). */
  pid?: number;
  stop(): Promise<void>;
}

export interface LocalSqsOptions {
  port?: number;
  queueName?: string;
  region?: string;
  /** Address it listens on (127.0.0.1). */
  host?: string;
}

/**
 * fauxqs (an SQS-compatible server) bound to 127.0.0.1 (or `host`) only, with the job queue
 * created. `startFauxqs` listens on every interface; building its app and listening here keeps it local.
 */
export async function startLocalSqs(opts: LocalSqsOptions = {}): Promise<LocalSqs> {
  const host = opts.host ?? '127.0.0.1';
  const app = buildApp({ logger: false });
  await app.listen({ port: opts.port ?? 0, host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
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

const READY = 'fauxqs-ready ';

/**
 * `startLocalSqs` in a child Node process under a command prefix, e.g.
 * `['ip', 'netns', 'exec', 'sb-core']` with `host` an address of that namespace, for a queue the
 * test process cannot reach but components in other namespaces routed there can.
 */
export async function startLocalSqsProcess(opts: LocalSqsOptions & { wrap: string[]; quiet?: boolean }): Promise<LocalSqs> {
  const { wrap, quiet, ...sqsOpts } = opts;
  const code = [
    `const { startLocalSqs } = await import(${JSON.stringify(import.meta.url)});`,
    `const sqs = await startLocalSqs(${JSON.stringify(sqsOpts)});`,
    `process.stdout.write(${JSON.stringify(READY)} + JSON.stringify({ endpoint: sqs.endpoint, queueUrl: sqs.queueUrl }) + '\\n');`,
    `process.once('SIGTERM', () => sqs.stop().then(() => process.exit(0)));`,
  ].join('\n');
  const [cmd, argv] = wrapped(wrap, process.execPath, ['--input-type=module', '-e', code]);
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = collectOutput(child, quiet ?? true);
  let alive = true;
  const exited = new Promise<void>((r) => child.once('exit', () => ((alive = false), r())));
  const stop = async () => {
    if (alive) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
  };
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && alive) {
    const line = output().split('\n').find((l) => l.startsWith(READY));
    if (line) {
      const { endpoint, queueUrl } = JSON.parse(line.slice(READY.length)) as { endpoint: string; queueUrl: string };
      return { endpoint, queueUrl, stop, ...(child.pid !== undefined ? { pid: child.pid } : {}) };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`fauxqs under ${wrap.join(' ')} did not start\noutput:\n${output().slice(-4000)}`);
}
