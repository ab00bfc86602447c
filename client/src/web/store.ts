import type { TranscriptEvent, TurnMetrics } from '@switchboard/protocol';
import type { Call, CallEvent, CallState, ConnectOptions } from './call.ts';
import { SwitchboardError } from './errors.ts';

/** What a UI shows of a call; a new object on every change (immutable snapshots). */
export interface CallSnapshot {
  state: CallState | 'idle';
  /** The latest events, oldest first (at most `maxEvents`). */
  events: readonly CallEvent[];
  /** Final transcript lines, oldest first (at most `maxEvents`). */
  transcript: readonly TranscriptEvent[];
  /** Per-turn latency, oldest first (at most `maxEvents`). */
  metrics: readonly TurnMetrics[];
  muted: boolean;
  error: SwitchboardError | null;
  sessionId: string | null;
}

const IDLE: CallSnapshot = { state: 'idle', events: [], transcript: [], metrics: [], muted: false, error: null, sessionId: null };

/**
 * A call's state for UI frameworks: `subscribe` and `getSnapshot` fit React's
 * useSyncExternalStore (see `@switchboard/client/react`), Svelte stores or a plain render loop.
 * One store makes one call at a time.
 */
export class CallStore {
  private snap: CallSnapshot = IDLE;
  private readonly subscribers = new Set<() => void>();
  private current: Call | null = null;
  private readonly start: (o: ConnectOptions) => Call;
  private readonly maxEvents: number;

  /** `start` makes and starts a call (tests pass their own); `maxEvents` bounds the kept history. */
  constructor(start: (o: ConnectOptions) => Call, maxEvents = 200) {
    this.start = start;
    this.maxEvents = maxEvents;
  }

  readonly subscribe = (fn: () => void): (() => void) => {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  };
  readonly getSnapshot = (): CallSnapshot => this.snap;

  get call(): Call | null {
    return this.current;
  }

  /** Starts a call (hanging up one in progress); resolves once connected, rejects as connect() does. */
  async connect(options: ConnectOptions = {}): Promise<Call> {
    await this.hangup();
    const call = this.start({
      ...options,
      on: {
        ...options.on,
        state: (s) => {
          options.on?.state?.(s);
          if (this.current === call) this.set({ state: s, error: call.error, sessionId: call.sessionId });
        },
        event: (e) => {
          options.on?.event?.(e);
          if (this.current === call) this.add(e);
        },
      },
    });
    this.current = call;
    this.snap = { ...IDLE, state: 'connecting' };
    this.notify();
    try {
      await call.start();
      this.set({ sessionId: call.sessionId });
      return call;
    } catch (err) {
      if (this.current === call) this.set({ state: 'failed', error: err instanceof SwitchboardError ? err : call.error });
      throw err;
    }
  }

  mute(muted = true): void {
    this.current?.mute(muted);
    this.set({ muted: this.current?.muted ?? false });
  }

  async hangup(): Promise<void> {
    const call = this.current;
    if (!call) return;
    await call.hangup();
  }

  private add(e: CallEvent): void {
    const keep = <T>(list: readonly T[], item: T) => [...list.slice(-(this.maxEvents - 1)), item];
    const patch: Partial<CallSnapshot> = { events: keep(this.snap.events, e) };
    if (e.type === 'transcript' && (e as TranscriptEvent).final !== false) patch.transcript = keep(this.snap.transcript, e as TranscriptEvent);
    if (e.type === 'metrics') patch.metrics = keep(this.snap.metrics, e as TurnMetrics);
    this.set(patch);
  }

  private set(patch: Partial<CallSnapshot>): void {
    this.snap = { ...this.snap, ...patch };
    this.notify();
  }

  private notify(): void {
    for (const fn of [...this.subscribers]) fn();
  }
}
