/**
 * The fleet-utilisation metric for ECS autoscaling, published as CloudWatch Embedded Metric Format
 * (EMF): one JSON line on stdout per window. The awslogs log driver ships stdout to CloudWatch Logs,
 * which turns each line carrying `_aws` metadata into metric data, so no AWS API call is made and
 * the task role needs no CloudWatch permission.
 *
 * What the EMF specification requires of a line, and how this one meets it:
 * - the whole log event is one JSON object (one line, nothing before or after it);
 * - `_aws.Timestamp` is epoch ms; `_aws.CloudWatchMetrics` is an array of directives, each with
 *   a Namespace, Dimensions (an array of dimension sets, each an array of member names) and
 *   Metrics (`{Name, Unit}`);
 * - every dimension name is a top-level string member, every metric name a top-level number.
 * The metrics are standard resolution (no StorageResolution): CloudWatch keeps one-minute points.
 */

/** The ServiceName dimension value when none is configured (METRICS_SERVICE ''). */
export const DEFAULT_SERVICE_NAME = 'switchboard-media-worker';

/** The repeating timer this needs; the default wraps Node's, unref'd (it never keeps the process up). */
export interface IntervalTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const nodeTimers: IntervalTimers = {
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
};

/** Settings; times in ms. */
export interface UtilizationOptions {
  /** CloudWatch namespace (METRICS_NAMESPACE); '' disables the publisher entirely. */
  namespace: string;
  /** ServiceName dimension value (METRICS_SERVICE); '' means DEFAULT_SERVICE_NAME. */
  service: string;
  /** Slots per worker (MAX_SESSIONS): busy / capacity is the utilisation. */
  capacity: number;
  /** Sessions plus claims in flight, right now (MediaWorker.busy). */
  busy: () => number;
  /** How often busy is sampled. Default 1 s. */
  sampleEveryMs?: number;
  /** How often a line is written (the window the samples are averaged over). Default 60 s. */
  publishEveryMs?: number;
  /** Where a line goes (without its newline). Default: stdout, one line each. */
  write?: (line: string) => void;
  /** Epoch ms. Default Date.now. */
  now?: () => number;
  timers?: IntervalTimers;
  /** Where a failed sample or write is reported. Default console.error. */
  log?: (msg: string) => void;
}

/** The member names of the EMF line: the directive refers to these top-level members. */
const DIMENSION = 'ServiceName';
const METRICS = [
  { Name: 'Utilization', Unit: 'Percent' },
  { Name: 'UtilizationPeak', Unit: 'Percent' },
  { Name: 'Sessions', Unit: 'Count' },
] as const;

const round1 = (x: number): number => Math.round(x * 10) / 10;

/**
 * Samples busy / capacity every `sampleEveryMs` and, every `publishEveryMs`, writes one EMF line:
 * Utilization (mean of the window's samples, percent), UtilizationPeak (the highest sample) and
 * Sessions (busy when the line is written), under the dimension ServiceName. Failures (a busy()
 * or write() that throws) are logged, never thrown, so a timer never crashes the worker.
 */
export class UtilizationPublisher {
  private readonly namespace: string;
  private readonly service: string;
  private readonly capacity: number;
  private readonly busy: () => number;
  private readonly sampleMs: number;
  private readonly publishMs: number;
  private readonly write: (line: string) => void;
  private readonly now: () => number;
  private readonly timers: IntervalTimers;
  private readonly log: (msg: string) => void;

  private timer: unknown;
  private running = false;
  private stopped = false;
  private windowStart = 0;
  private sum = 0;
  private count = 0;
  private peak = 0;
  /** The last busy count read, for Sessions when busy() fails at publish time. */
  private lastBusy = 0;
  /** busy() is failing: logged once until it answers again, not every sample. */
  private busyFailing = false;

  constructor(opts: UtilizationOptions) {
    this.namespace = opts.namespace;
    this.service = opts.service || DEFAULT_SERVICE_NAME;
    this.capacity = opts.capacity;
    this.busy = opts.busy;
    this.sampleMs = Math.max(1, opts.sampleEveryMs ?? 1_000);
    // A window holds at least one sample.
    this.publishMs = Math.max(this.sampleMs, opts.publishEveryMs ?? 60_000);
    this.write = opts.write ?? ((line) => void process.stdout.write(`${line}\n`));
    this.now = opts.now ?? Date.now;
    this.timers = opts.timers ?? nodeTimers;
    this.log = opts.log ?? ((m) => console.error(m));
  }

  /** False when METRICS_NAMESPACE is '': start, stop and flush then do nothing. */
  get enabled(): boolean {
    return this.namespace !== '';
  }

  /** Starts sampling; the first window ends `publishEveryMs` from now. Idempotent. */
  start(): void {
    if (!this.enabled || this.running || this.stopped) return;
    this.running = true;
    this.windowStart = this.now();
    this.timer = this.timers.setInterval(() => this.tick(), this.sampleMs);
  }

  /**
   * Stops sampling and writes the partial window, if it has samples, so that the last minute of a
   * task being scaled in is not lost. Nothing is written after. On Linux, stdout to a pipe or
   * file (the awslogs case) is written synchronously, so an exit right after keeps the line.
   */
  stop(): void {
    if (this.stopped) return;
    if (this.running) this.timers.clearInterval(this.timer);
    this.running = false;
    this.timer = undefined;
    if (this.enabled) this.flush();
    this.stopped = true;
  }

  /** Writes the current window now, if it has samples, and starts a new one. */
  flush(): void {
    if (!this.enabled || this.stopped || this.count === 0) return;
    const at = this.now();
    const line = this.line(at, this.sampleBusy() ?? this.lastBusy);
    this.windowStart = at;
    this.sum = 0;
    this.count = 0;
    this.peak = 0;
    try {
      this.write(line);
    } catch (err) {
      this.log(`utilisation metric not written: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** One sample; the window is written once it spans publishEveryMs. */
  private tick(): void {
    try {
      const busy = this.sampleBusy();
      if (busy !== null) {
        const pct = this.percent(busy);
        this.sum += pct;
        this.count++;
        this.peak = Math.max(this.peak, pct);
      }
      // Half a sample of slack: an interval firing a hair early still closes its window.
      if (this.now() - this.windowStart >= this.publishMs - this.sampleMs / 2) this.flush();
    } catch (err) {
      this.log(`utilisation sample failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** busy(), or null when it throws or is not a finite number (the sample is skipped). */
  private sampleBusy(): number | null {
    let why: string;
    try {
      const n = this.busy();
      if (Number.isFinite(n)) {
        this.busyFailing = false;
        this.lastBusy = Math.max(0, n);
        return this.lastBusy;
      }
      why = `busy() returned ${String(n)}`;
    } catch (err) {
      why = err instanceof Error ? err.message : String(err);
    }
    if (!this.busyFailing) this.log(`utilisation sample skipped: ${why}`);
    this.busyFailing = true;
    return null;
  }

  /** busy / capacity in percent, clamped to 0..100 (claims in flight can briefly exceed capacity). */
  private percent(busy: number): number {
    if (!(this.capacity > 0)) return busy > 0 ? 100 : 0;
    return Math.min(100, (busy / this.capacity) * 100);
  }

  private line(at: number, sessions: number): string {
    return JSON.stringify({
      _aws: {
        Timestamp: at,
        CloudWatchMetrics: [{ Namespace: this.namespace, Dimensions: [[DIMENSION]], Metrics: METRICS }],
      },
      [DIMENSION]: this.service,
      Utilization: round1(this.sum / this.count),
      UtilizationPeak: round1(this.peak),
      Sessions: sessions,
    });
  }
}
