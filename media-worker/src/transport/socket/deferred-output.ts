/**
 * A call's output before its stream exists: a phone call's handler starts when the call is
 * claimed (an outbound call's greeting is ready when the callee answers), but the format the
 * far end takes is known only from the stream's `start`. Until the engine is made, this keeps the
 * reply audio and segment ends in order (at most `maxQueueMs`, oldest dropped), then hands them to
 * the engine; from then on it is the engine.
 */
import { durationMs, type AudioFrame } from '../../audio/frame.ts';
import type { PlayoutOutput, SegmentResult } from '../../audio/playout/types.ts';

type Held = { frame: AudioFrame } | { finish: (r: Promise<SegmentResult>) => void };

const INTERRUPTED_EMPTY: SegmentResult = { playedMs: 0, interrupted: true };

export class DeferredOutput implements PlayoutOutput {
  readonly #maxQueueMs: number;
  #engine: PlayoutOutput | null = null;
  #held: Held[] = [];
  #heldMs = 0;
  /** Waiters for room, to be handed to the engine once it exists. */
  #roomWaiters: Array<() => void> = [];

  constructor(maxQueueMs = 10_000) {
    this.#maxQueueMs = maxQueueMs;
  }

  get engine(): PlayoutOutput | null {
    return this.#engine;
  }

  /** The engine exists: what was held goes to it in order, and everything from now on. */
  attach(engine: PlayoutOutput): void {
    this.#engine = engine;
    for (const h of this.#held) {
      if ('frame' in h) engine.push(h.frame);
      else h.finish(engine.finish());
    }
    this.#held = [];
    this.#heldMs = 0;
    for (const w of this.#roomWaiters.splice(0)) w();
  }

  push(frame: AudioFrame): void {
    if (this.#engine) return this.#engine.push(frame);
    this.#held.push({ frame });
    this.#heldMs += durationMs(frame);
    // Bounded: beyond maxQueueMs the oldest audio goes (the engine's own policy, applied early).
    while (this.#heldMs > this.#maxQueueMs) {
      const i = this.#held.findIndex((h) => 'frame' in h);
      const [gone] = this.#held.splice(i, 1);
      if (gone && 'frame' in gone) this.#heldMs -= durationMs(gone.frame);
    }
  }

  finish(): Promise<SegmentResult> {
    if (this.#engine) return this.#engine.finish();
    return new Promise((resolve) => this.#held.push({ finish: (r) => void r.then(resolve) }));
  }

  clear(): SegmentResult {
    if (this.#engine) return this.#engine.clear();
    for (const h of this.#held) if ('finish' in h) h.finish(Promise.resolve(INTERRUPTED_EMPTY));
    this.#held = [];
    this.#heldMs = 0;
    return INTERRUPTED_EMPTY;
  }

  queuedMs(): number {
    return this.#engine ? this.#engine.queuedMs() : this.#heldMs;
  }

  async whenQueuedAtMost(ms: number, signal: AbortSignal): Promise<boolean> {
    if (!this.#engine) {
      if (this.#heldMs <= ms) return true;
      const attached = await new Promise<boolean>((resolve) => {
        if (signal.aborted) return resolve(false);
        const onAbort = () => {
          this.#roomWaiters = this.#roomWaiters.filter((w) => w !== wake);
          resolve(false);
        };
        const wake = () => {
          signal.removeEventListener('abort', onAbort);
          resolve(true);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        this.#roomWaiters.push(wake);
      });
      if (!attached) return false;
    }
    return this.#engine!.whenQueuedAtMost(ms, signal);
  }
}
