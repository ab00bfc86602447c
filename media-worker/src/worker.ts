import { SQSClient } from '@aws-sdk/client-sqs';
import type { SessionJob } from '@switchboard/protocol';
import type { WorkerConfig } from './config.ts';
import type { TaskProtection } from './ecs/task-protection.ts';
import type { Handler } from './handlers/types.ts';
import { FrameClock } from './audio/frame-clock.ts';
import type { Metrics } from './http/metrics.ts';
import { dialControl } from './jobs/control-channel.ts';
import { JobPoller, type JobVerdict } from './jobs/job-poller.ts';
import type { VadFactory } from './pipeline/session-pipeline.ts';
import { runSession, type RunningSession } from './sessions/run-session.ts';
import { SessionSlots } from './sessions/session-slots.ts';

/** What the worker tells its task's scale-in protection (ecs/task-protection.ts). */
export type BusyListener = Pick<TaskProtection, 'setBusy' | 'drain' | 'close'>;

const NO_PROTECTION: BusyListener = { setBusy: () => {}, drain: () => {}, close: async () => {} };

/**
 * One media worker: claims jobs while it has free slots, runs their sessions, and drains on
 * shutdown (stops claiming, lets sessions finish up to DRAIN_TIMEOUT_MS, then hands the phone
 * calls left to other workers and ends the WebRTC sessions left).
 */
export class MediaWorker {
  /** One slot per session id; a session this worker takes over while its old run finishes keeps one (session-slots.ts). */
  private readonly sessions = new SessionSlots<RunningSession>();
  private claiming = 0;
  /** Claims being decided (dialing the edge): each may still add a session. */
  private readonly claimsInFlight = new Set<Promise<JobVerdict>>();
  private draining = false;
  private readonly sqs: SQSClient;
  private readonly poller: JobPoller;
  readonly id: string;
  private readonly config: WorkerConfig;
  private readonly handler: Handler;
  private readonly vad: VadFactory;
  private readonly metrics: Metrics;
  private readonly log: (msg: string) => void;
  /** Told the busy count (sessions + claims in flight) on every change; no-op by default. */
  private readonly protection: BusyListener;
  private readonly unobserveSends: () => void;

  constructor(
    config: WorkerConfig,
    handler: Handler,
    vad: VadFactory,
    metrics: Metrics,
    log: (msg: string) => void = (m) => console.log(m),
    protection: BusyListener = NO_PROTECTION,
  ) {
    this.config = config;
    this.handler = handler;
    this.vad = vad;
    this.metrics = metrics;
    this.log = log;
    this.protection = protection;
    this.id = config.WORKER_ID || `w-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    this.sqs = new SQSClient({
      region: config.AWS_REGION,
      ...(config.SQS_ENDPOINT ? { endpoint: config.SQS_ENDPOINT } : {}),
      ...(config.AWS_ACCESS_KEY_ID
        ? { credentials: { accessKeyId: config.AWS_ACCESS_KEY_ID, secretAccessKey: config.AWS_SECRET_ACCESS_KEY } }
        : {}),
    });
    metrics.capacity.set(config.MAX_SESSIONS);
    // WebRTC replies go out on the process's shared 20 ms clock (webrtc-transport.ts): the
    // histogram hears every packet's send lateness, all workers of the process together.
    this.unobserveSends = FrameClock.shared(20).observeSends((ms) => metrics.sendLateness.observe(ms / 1000));
    this.poller = new JobPoller({
      sqs: this.sqs,
      queueUrl: config.SQS_QUEUE_URL,
      waitTimeS: config.SQS_WAIT_S,
      visibilityS: config.SQS_VISIBILITY_S,
      freeSlots: () => this.freeSlots(),
      onJob: (job) => {
        const claim = this.claim(job);
        this.claimsInFlight.add(claim);
        this.busyChanged();
        const forget = () => {
          this.claimsInFlight.delete(claim);
          this.busyChanged();
        };
        claim.then(forget, forget);
        return claim;
      },
      log,
    });
  }

  get activeSessions(): number {
    return this.sessions.size;
  }

  /**
   * Sessions plus claims still dialing (each may become a session): what scale-in protection is
   * told, and what the utilisation metric (ecs/emf-utilization.ts) counts against MAX_SESSIONS.
   */
  get busy(): number {
    return this.sessions.size + this.claimsInFlight.size;
  }

  private busyChanged(): void {
    this.protection.setBusy(this.busy);
  }

  get ready(): boolean {
    return !this.draining;
  }

  freeSlots(): number {
    return this.draining ? 0 : this.config.MAX_SESSIONS - this.sessions.size - this.claiming;
  }

  start(): void {
    this.poller.start();
  }

  private async claim(job: SessionJob): Promise<JobVerdict> {
    if (this.draining) return 'retry';
    this.claiming++;
    try {
      const outcome = await dialControl(this.config.PUBLIC_BASE_URL, job, this.id);
      this.metrics.claims.inc({ outcome: outcome.kind === 'refused' ? `refused_${outcome.status}` : outcome.kind });
      if (outcome.kind === 'transient') {
        this.log(`claim ${job.sessionId}: ${outcome.error}; will retry`);
        return 'retry';
      }
      this.metrics.claimLatency.observe(Math.max(0, Date.now() - job.createdAt) / 1000);
      if (outcome.kind === 'refused') return 'decided';
      const running = runSession(job, outcome.channel, {
        config: this.config,
        handler: this.handler,
        vad: this.vad,
        metrics: this.metrics,
        log: this.log,
        workerId: this.id,
      });
      this.sessions.add(running, () => {
        this.metrics.activeSessions.set(this.sessions.size);
        this.busyChanged();
        this.poller.slotFreed();
      });
      this.metrics.activeSessions.set(this.sessions.size);
      this.busyChanged();
      return 'decided';
    } finally {
      this.claiming--;
    }
  }

  /**
   * Stops claiming, waits for sessions up to `timeoutMs` from now, then ends what is left: phone
   * calls are handed to another worker (the edge re-queues them as takeovers), WebRTC sessions
   * end with 'drain_timeout' (run-session.ts drainTimeout). The
   * long poll in flight is let finish (it returns what it gets to the queue; see JobPoller.stop),
   * within the same limit. Scale-in protection is kept while sessions run and dropped after.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    this.protection.drain();
    const pollerStopped = this.poller.stop(timeoutMs);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise<true>((r) => (timer = setTimeout(() => r(true), timeoutMs)));
    // A claim already dialing may still win a session: it is waited for, and drained with the rest.
    await Promise.race([Promise.all([...this.claimsInFlight]), limit]);
    const all = () => Promise.all(this.sessions.runs().map((s) => s.done));
    const timedOut = await Promise.race([all().then(() => false), limit]);
    if (timedOut) {
      for (const s of this.sessions.runs()) s.drainTimeout();
      await all();
    }
    await pollerStopped;
    clearTimeout(timer);
    // A claim that outlasted the limit may have won a session since.
    for (const s of this.sessions.runs()) s.drainTimeout();
    await all();
    this.sqs.destroy();
    this.unobserveSends();
    await this.protection.close();
  }
}
