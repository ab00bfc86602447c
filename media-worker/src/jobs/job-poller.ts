import {
  ChangeMessageVisibilityCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { parseSessionJob, type SessionJob } from '@switchboard/protocol';
import { DeleteBatcher } from './delete-batcher.ts';

/**
 * How long a decided job's delete waits for others to share its DeleteMessageBatch call, ms: a
 * few sessions' worth at a burst of setups, and far inside any visibility timeout (>= 1 s).
 */
const DELETE_LINGER_MS = 25;

export type JobVerdict = 'decided' | 'retry';

export interface JobPollerOptions {
  sqs: SQSClient;
  queueUrl: string;
  /** Free session slots now; the poller never asks SQS for more than this. */
  freeSlots: () => number;
  /** Claims the job; 'decided' deletes the message, 'retry' makes it visible again soon. */
  onJob: (job: SessionJob) => Promise<JobVerdict>;
  waitTimeS: number;
  /**
   * Seconds a received job stays hidden from other receives (ReceiveMessage VisibilityTimeout)
   * while this worker claims it. Kept short, not the queue's default: a job handed to a receive
   * whose caller is gone (an aborted long poll, a killed worker) reappears after this long for
   * another worker, well within the edge's claim timeout. A claim outlasting it is harmless: a
   * second worker may dial too, and the edge lets the first dial win.
   */
  visibilityS: number;
  now?: () => number;
  log?: (msg: string) => void;
}

export interface JobPollerStats {
  received: number;
  expired: number;
  malformed: number;
  decided: number;
  retried: number;
  receiveErrors: number;
}

/**
 * Long-polls SQS for session jobs, asking only for as many as there are free slots so capacity
 * is never over-committed. Expired and malformed jobs are deleted unclaimed; duplicates are
 * harmless (the edge refuses a second claim with 409, which is also 'decided').
 *
 * Jobs are handled while the next receive is already out: a burst of jobs is not held up by the
 * claims of the batch before it. `onJob` must count its claim against `freeSlots` synchronously
 * (before its first await), so the next receive never asks for a slot a claim in flight may take;
 * a job that settles without a session wakes a poller waiting for a free slot.
 */
export class JobPoller {
  private running = false;
  private loop: Promise<void> | null = null;
  private abort = new AbortController();
  private slotWaiter: (() => void) | null = null;
  /** Jobs received and not yet decided and deleted (or released). */
  private readonly inFlight = new Set<Promise<void>>();
  readonly stats: JobPollerStats = { received: 0, expired: 0, malformed: 0, decided: 0, retried: 0, receiveErrors: 0 };

  private readonly o: JobPollerOptions;
  private readonly deletes: DeleteBatcher;

  constructor(options: JobPollerOptions) {
    this.o = options;
    this.deletes = new DeleteBatcher({
      sqs: options.sqs,
      queueUrl: options.queueUrl,
      lingerMs: DELETE_LINGER_MS,
      log: (msg) => (options.log ?? console.warn)(msg),
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.abort = new AbortController();
    this.loop = this.run();
  }

  /**
   * Stops asking for jobs; resolves once the current receive and claims are done. A long poll in
   * flight is let run to its end (at most `waitTimeS`), and whatever it brings is put straight
   * back on the queue: aborting it would not stop SQS from handing it the next job, which would
   * then sit invisible and unclaimed for the queue's visibility timeout while its caller waits
   * (aws/aws-sdk-js#2350, aws/aws-sdk-java-v2#1395; fauxqs does the same). `abortAfterMs` bounds
   * that wait: then the request is aborted after all.
   */
  async stop(abortAfterMs = Infinity): Promise<void> {
    this.running = false;
    this.slotWaiter?.();
    const timer = Number.isFinite(abortAfterMs) ? setTimeout(() => this.abort.abort(), abortAfterMs) : undefined;
    await this.loop;
    clearTimeout(timer);
  }

  /** Resolves once every job received so far has been decided and deleted or released. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** Call when a session ends, so a poller waiting for a free slot resumes. */
  slotFreed(): void {
    this.slotWaiter?.();
  }

  private async run(): Promise<void> {
    const log = this.o.log ?? (() => {});
    while (this.running) {
      const free = this.o.freeSlots();
      if (free <= 0) {
        await new Promise<void>((r) => (this.slotWaiter = r));
        this.slotWaiter = null;
        continue;
      }
      let messages: Message[];
      try {
        const r = await this.o.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.o.queueUrl,
            MaxNumberOfMessages: Math.min(10, free),
            WaitTimeSeconds: this.o.waitTimeS,
            VisibilityTimeout: this.o.visibilityS,
          }),
          { abortSignal: this.abort.signal },
        );
        messages = r.Messages ?? [];
      } catch (err) {
        if (!this.running) break;
        this.stats.receiveErrors++;
        log(`receive failed: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      this.stats.received += messages.length;
      if (!this.running) {
        // Stopped while this receive was in flight: the jobs go back at once, for other workers.
        this.stats.retried += messages.length;
        await Promise.all(messages.map((m) => this.release(m, 0)));
        break;
      }
      for (const m of messages) {
        const h: Promise<void> = this.handle(m).finally(() => {
          this.inFlight.delete(h);
          this.slotWaiter?.();
        });
        this.inFlight.add(h);
      }
    }
    await this.idle();
  }

  private async handle(m: Message): Promise<void> {
    const now = (this.o.now ?? Date.now)();
    let job: SessionJob;
    try {
      job = parseSessionJob(m.Body ?? '');
    } catch (err) {
      this.stats.malformed++;
      (this.o.log ?? console.warn)(`dropping malformed job: ${(err as Error).message}`);
      await this.delete(m);
      return;
    }
    if (job.expiresAt <= now) {
      this.stats.expired++;
      await this.delete(m);
      return;
    }
    let verdict: JobVerdict;
    try {
      verdict = await this.o.onJob(job);
    } catch (err) {
      (this.o.log ?? console.warn)(`claim of ${job.sessionId} failed: ${(err as Error).message}`);
      verdict = 'retry';
    }
    if (verdict === 'decided') {
      this.stats.decided++;
      await this.delete(m);
    } else {
      this.stats.retried++;
      await this.release(m, 1);
    }
  }

  /** Makes a received message visible again after `visibilityS` seconds. */
  private async release(m: Message, visibilityS: number): Promise<void> {
    await this.o.sqs
      .send(new ChangeMessageVisibilityCommand({ QueueUrl: this.o.queueUrl, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: visibilityS }))
      .catch(() => {});
  }

  private async delete(m: Message): Promise<void> {
    await this.deletes.delete(m.ReceiptHandle ?? '');
  }
}
