/**
 * Reply segments: the audio pushed between one finish() or clear() and the next. Each frame the
 * engine queues belongs to the segment open when it was made; a segment counts its frames still
 * to be heard (queued here or unacknowledged at the far end) and those heard. It resolves once
 * it is closed (finish()) and none is left to hear, or at once, interrupted, when the output is
 * cleared or stopped: what it reports as played is what was heard by then.
 */
import type { SegmentResult } from './types.ts';

export type SegmentEndListener = (id: number, result: SegmentResult) => void;

export class Segment {
  readonly id: number;
  /** Frames queued here or held unacknowledged by the far end: neither heard nor gone yet. */
  pending = 0;
  heardFrames = 0;
  /** finish() was called: no more frames join it. */
  closed = false;
  /** Set when it resolved. */
  result: SegmentResult | undefined;
  readonly done: Promise<SegmentResult>;
  resolve!: (r: SegmentResult) => void;

  constructor(id: number) {
    this.id = id;
    this.done = new Promise((resolve) => (this.resolve = resolve));
  }
}

const NONE: SegmentResult = Object.freeze({ playedMs: 0, interrupted: false });

export class Segments {
  readonly #frameMs: number;
  readonly #listeners = new Set<SegmentEndListener>();
  readonly #onError: (err: unknown) => void;
  /** Segments not resolved yet, oldest first (the open one last, if any). */
  #unresolved: Segment[] = [];
  #open: Segment | undefined;
  /** The newest segment, open or closed. */
  #last: Segment | undefined;
  #nextId = 1;

  constructor(frameMs: number, onError: (err: unknown) => void) {
    this.#frameMs = frameMs;
    this.#onError = onError;
  }

  /** The open segment, opening one if none is. */
  current(): Segment {
    if (this.#open) return this.#open;
    const s = new Segment(this.#nextId++);
    this.#open = s;
    this.#last = s;
    this.#unresolved.push(s);
    return s;
  }

  get open(): Segment | undefined {
    return this.#open;
  }

  /** Closes the open segment and returns its result to come; without one, the newest segment's. */
  close(): Promise<SegmentResult> {
    const s = this.#open;
    if (s) {
      this.#open = undefined;
      s.closed = true;
      this.#settle(s);
      return s.done;
    }
    return this.#last ? this.#last.done : Promise.resolve(NONE);
  }

  /** A frame of `s` was queued. */
  queued(s: Segment): void {
    s.pending++;
  }

  /** `n` frames of `s` were heard. */
  heard(s: Segment, n = 1): void {
    s.pending -= n;
    s.heardFrames += n;
    this.#settle(s);
  }

  /** A frame of `s` will never be heard (dropped when the queue was full, or lost with the far end's buffer). */
  gone(s: Segment): void {
    s.pending--;
    this.#settle(s);
  }

  /**
   * Resolves every unresolved segment as interrupted with what was heard of it, closes the open
   * one, and returns the newest segment's result (or nothing played, if there never was one).
   */
  interruptAll(): SegmentResult {
    this.#open = undefined;
    const pending = this.#unresolved;
    this.#unresolved = [];
    for (const s of pending) {
      s.closed = true;
      this.#end(s, { playedMs: s.heardFrames * this.#frameMs, interrupted: true });
    }
    return this.#last?.result ?? NONE;
  }

  /** Hears every segment's end; returns the unsubscribe. */
  onEnd(cb: SegmentEndListener): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  #settle(s: Segment): void {
    if (!s.closed || s.pending > 0 || s.result) return;
    const i = this.#unresolved.indexOf(s);
    if (i >= 0) this.#unresolved.splice(i, 1);
    this.#end(s, { playedMs: s.heardFrames * this.#frameMs, interrupted: false });
  }

  #end(s: Segment, result: SegmentResult): void {
    if (s.result) return;
    s.result = result;
    s.resolve(result);
    for (const l of this.#listeners) {
      try {
        l(s.id, result);
      } catch (err) {
        this.#onError(err);
      }
    }
  }
}
