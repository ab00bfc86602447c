/**
 * An in-memory PlayoutOutput for pipeline tests (the interface is ours, so a double is fair): it
 * records every pushed frame and clear, and simulates real-time playout on `clock()` (queued
 * audio drains at 1 ms per ms), with segments as the PlayoutEngine keeps them: finish() resolves
 * when the segment's audio has played, clear() resolves it as interrupted with what was played.
 * The engine itself is tested in audio/playout.
 */
import { durationMs, type AudioFrame } from '../audio/frame.ts';
import type { PlayoutOutput, SegmentResult } from '../audio/playout/types.ts';

export interface Played {
  frame: AudioFrame;
  at: number;
}

interface Segment {
  /** Ms pushed into it. */
  ms: number;
  /** Clock time its audio starts playing. */
  startsAt: number;
  result: SegmentResult | undefined;
  done: Promise<SegmentResult>;
  resolve: (r: SegmentResult) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export class MemoryOutput implements PlayoutOutput {
  readonly played: Played[] = [];
  readonly clears: Array<{ at: number; playedMs: number }> = [];
  /** How often the pipeline said a reply's audio was complete. */
  finished = 0;
  readonly #clock: () => number;
  /** Clock time at which everything queued so far will have played. */
  #playoutEnd = 0;
  #open: Segment | undefined;
  #last: Segment | undefined;
  readonly #pending = new Set<Segment>();

  constructor(clock: () => number) {
    this.#clock = clock;
  }

  push(frame: AudioFrame): void {
    const now = this.#clock();
    const ms = durationMs(frame);
    this.played.push({ frame, at: now });
    if (!this.#open) this.#open = this.#last = this.#segment(Math.max(this.#playoutEnd, now));
    this.#open.ms += ms;
    this.#playoutEnd = Math.max(this.#playoutEnd, now) + ms;
  }

  finish(): Promise<SegmentResult> {
    this.finished++;
    const s = this.#open;
    if (!s) return this.#last ? this.#last.done : Promise.resolve({ playedMs: 0, interrupted: false });
    this.#open = undefined;
    this.#pending.add(s);
    s.timer = setTimeout(() => this.#end(s, { playedMs: s.ms, interrupted: false }), Math.max(0, this.#playoutEnd - this.#clock()));
    return s.done;
  }

  clear(): SegmentResult {
    const now = this.#clock();
    const s = this.#last;
    const result = s ? (s.result ?? { playedMs: Math.min(s.ms, Math.max(0, now - s.startsAt)), interrupted: true }) : { playedMs: 0, interrupted: false };
    for (const p of [...this.#pending]) this.#end(p, { playedMs: Math.min(p.ms, Math.max(0, now - p.startsAt)), interrupted: true });
    if (this.#open) this.#end(this.#open, result);
    this.#open = undefined;
    this.#playoutEnd = now;
    this.clears.push({ at: now, playedMs: result.playedMs });
    return result;
  }

  queuedMs(): number {
    return Math.max(0, this.#playoutEnd - this.#clock());
  }

  async whenQueuedAtMost(ms: number, signal: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal.aborted) return false;
      const over = this.queuedMs() - ms;
      if (over <= 0) return true;
      // The simulated queue drains at a known rate: sleep until it reaches the level.
      const reached = await new Promise<boolean>((resolve) => {
        const onAbort = (): void => {
          clearTimeout(timer);
          resolve(false);
        };
        const timer = setTimeout(() => {
          signal.removeEventListener('abort', onAbort);
          resolve(true);
        }, over);
        signal.addEventListener('abort', onAbort, { once: true });
      });
      if (!reached) return false;
    }
  }

  /** Total ms of audio pushed. */
  playedMs(filter: (p: Played) => boolean = () => true): number {
    return this.played.filter(filter).reduce((s, p) => s + durationMs(p.frame), 0);
  }

  #segment(startsAt: number): Segment {
    let resolve!: (r: SegmentResult) => void;
    const done = new Promise<SegmentResult>((r) => (resolve = r));
    return { ms: 0, startsAt, result: undefined, done, resolve, timer: undefined };
  }

  #end(s: Segment, result: SegmentResult): void {
    if (s.result) return;
    clearTimeout(s.timer);
    this.#pending.delete(s);
    s.result = result;
    s.resolve(result);
  }
}
