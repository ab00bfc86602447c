import { FrameClock } from './frame-clock.ts';
import { HeardLog } from './heard-log.ts';
import { FRAME_MS } from './messages.ts';
import { PlaybackBuffer, type ClearResult } from './playback-buffer.ts';

/**
 * How the client "plays" reply audio. Times are ms since the client's time origin.
 * - `realtime`: a playback buffer ticked every 20 ms on a drift-free clock, so marks are reached
 *   when the audio before them has played and `clear` drops what has not;
 * - `none`: audio counts as heard the moment it arrives and marks are reached on arrival (a sink
 *   with no playback delay, e.g. for throughput benches).
 */
export type PlaybackMode = 'realtime' | 'none';

export interface Player<M> {
  readonly heard: HeardLog;
  /** Received audio not yet played, ms. */
  readonly queuedMs: number;
  /** Starts the playback clock (at `started`). */
  start(): void;
  push(pcm: Int16Array, atMs: number): void;
  /** Queues a mark; true when it is reached at once. */
  mark(mark: M, atMs: number): boolean;
  clear(atMs: number): ClearResult<M>;
  stop(): void;
}

export interface PlayerHooks<M> {
  /** The performance.now() value of time 0. */
  timeOrigin: number;
  /** Marks reached at a tick, in order. */
  onReached(marks: M[], atMs: number): void;
}

export function createPlayer<M>(mode: PlaybackMode, sampleRate: number, hooks: PlayerHooks<M>): Player<M> {
  return mode === 'realtime' ? new RealtimePlayer(sampleRate, hooks) : new ImmediatePlayer(sampleRate);
}

class RealtimePlayer<M> implements Player<M> {
  #buffer: PlaybackBuffer<M>;
  #clock: FrameClock;
  #hooks: PlayerHooks<M>;

  constructor(sampleRate: number, hooks: PlayerHooks<M>) {
    this.#hooks = hooks;
    this.#buffer = new PlaybackBuffer<M>(sampleRate, FRAME_MS);
    this.#clock = new FrameClock(FRAME_MS, (due) => {
      const marks = this.#buffer.tick(due - hooks.timeOrigin);
      if (marks.length > 0) hooks.onReached(marks, performance.now() - hooks.timeOrigin);
    });
  }

  get heard(): HeardLog {
    return this.#buffer.heard;
  }

  get queuedMs(): number {
    return this.#buffer.queuedMs;
  }

  start(): void {
    if (!this.#clock.running) this.#clock.start(performance.now());
  }

  push(pcm: Int16Array): void {
    this.#buffer.push(pcm);
  }

  mark(mark: M, atMs: number): boolean {
    return this.#buffer.mark(mark, atMs);
  }

  clear(atMs: number): ClearResult<M> {
    return this.#buffer.clear(atMs);
  }

  stop(): void {
    this.#clock.stop();
  }
}

class ImmediatePlayer<M> implements Player<M> {
  readonly heard: HeardLog;
  readonly queuedMs = 0;

  constructor(sampleRate: number) {
    this.heard = new HeardLog(sampleRate);
  }

  start(): void {}

  push(pcm: Int16Array, atMs: number): void {
    this.heard.add(atMs, pcm);
  }

  mark(): boolean {
    return true;
  }

  clear(): ClearResult<M> {
    return { droppedSamples: 0, droppedMarks: [] };
  }

  stop(): void {}
}
