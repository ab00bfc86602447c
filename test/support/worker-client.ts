import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import WebSocket from 'ws';
import { parseControlToWorker, parseSessionJob, type ControlToEdge, type ControlToWorker, type SessionJob } from '@switchboard/protocol';

/**
 * A stand-in for the media worker's claim logic, on the real clients it will use: the AWS SDK
 * long-polling SQS, and a plain `ws` dial to the session's control WebSocket.
 */
export class TestWorker {
  private readonly sqs: SQSClient;
  private readonly edgeUrl: string;
  private readonly queueUrl: string;
  readonly id: string;

  constructor(edgeUrl: string, endpoint: string, queueUrl: string, id = `w-${Math.random().toString(36).slice(2, 8)}`) {
    this.edgeUrl = edgeUrl;
    this.queueUrl = queueUrl;
    this.id = id;
    this.sqs = new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  }

  /**
   * Long-polls for the next job and deletes it: of one session (its id), or one `match` accepts
   * (jobs that earlier tests left on the shared queue are skipped), or any.
   */
  async nextJob(match?: string | ((job: SessionJob) => boolean), timeoutMs = 8000): Promise<SessionJob> {
    const wanted = typeof match === 'string' ? (job: SessionJob) => job.sessionId === match : (match ?? (() => true));
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const r = await this.sqs.send(new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      for (const m of r.Messages ?? []) {
        await this.sqs.send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: m.ReceiptHandle }));
        const job = parseSessionJob(m.Body ?? '');
        if (wanted(job)) return job;
      }
    }
    throw new Error(`no job within ${timeoutMs} ms`);
  }

  /**
   * Dials a phone or stream session's media socket as the claiming worker does (its resume token
   * from the `session` message); resolves with the open socket and the frames it receives.
   */
  async media(sessionId: string, resumeToken: string): Promise<{ ws: WebSocket; frames: string[] }> {
    const url = `${this.edgeUrl.replace(/^http/, 'ws')}/internal/sessions/${sessionId}/media`;
    const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${resumeToken}`, 'X-Worker-Id': this.id } });
    const frames: string[] = [];
    ws.on('message', (d) => frames.push(d.toString()));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return { ws, frames };
  }

  claim(job: Pick<SessionJob, 'sessionId' | 'controlToken'>): Promise<ControlClaim> {
    const url = `${this.edgeUrl.replace(/^http/, 'ws')}/internal/sessions/${job.sessionId}/control`;
    const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${job.controlToken}`, 'X-Worker-Id': this.id } });
    return new Promise((resolve) => {
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ws: null, messages: new MessageQueue(), send: () => {} }));
      });
      ws.once('open', () => {
        const messages = new MessageQueue();
        ws.on('message', (data) => {
          const parsed = parseControlToWorker(data.toString());
          if (parsed.ok) messages.push(parsed.value);
        });
        ws.on('close', (code) => messages.close(code));
        resolve({ status: 101, body: '', ws, messages, send: (m) => ws.send(JSON.stringify(m)) });
      });
    });
  }

  close(): void {
    this.sqs.destroy();
  }
}

export interface ControlClaim {
  status: number;
  body: string;
  ws: WebSocket | null;
  messages: MessageQueue;
  send(msg: ControlToEdge): void;
}

export class MessageQueue {
  private readonly items: ControlToWorker[] = [];
  private readonly waiters: ((m: ControlToWorker) => void)[] = [];
  closedWith: number | null = null;

  push(m: ControlToWorker): void {
    const w = this.waiters.shift();
    if (w) w(m);
    else this.items.push(m);
  }

  close(code: number): void {
    this.closedWith = code;
  }

  next(timeoutMs = 5000): Promise<ControlToWorker> {
    const m = this.items.shift();
    if (m) return Promise.resolve(m);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no control message within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push((x) => {
        clearTimeout(t);
        resolve(x);
      });
    });
  }
}
