/**
 * The playout engine: takes reply audio at any rate and in any chunk sizes, cuts it into frames
 * of the sink's format (frame-maker.ts), and sends them one per tick of a real-time FrameClock,
 * in segments whose results say what the listener heard (segments.ts, far-end.ts).
 *
 * Constraints it encodes:
 * - Pacing, talkspurt starts and the grid rule are the pacer's (pacer.ts).
 * - RTP timestamps are base + (k - k0) * (frameMs at `rtpClockRate`) for clock tick k (k0: the
 *   first start): they follow the clock's grid, also while nothing is sent, so they stay
 *   continuous through silence. `marker` is set on the first frame after ticks that sent nothing
 *   (start of a talkspurt, RFC 3551 section 4.1).
 * - Work ahead of the tick: the queue's head is prepared (encoded) before its tick (prepare-ahead.ts).
 * - Lead: a sink with leadMs 0 (RTP) gets one frame per tick. One with a playout buffer (leadMs
 *   > 0) gets one per tick, plus a second while the play clock is less than leadMs ahead of now:
 *   its buffer fills at 2x real time, never faster, up to about leadMs, and stays there.
 * - Bounded latency: the queue holds at most `maxQueueMs`; pushing beyond drops the oldest audio.
 * - Barge-in: clear() empties the queue at once (the next tick sends nothing), tells the far end
 *   to drop its buffer if anything was sent to it since the last clear, and returns what was heard.
 */
import { FrameClock } from '../frame-clock.ts';
import type { AudioFrame } from '../frame.ts';
import { initResampler } from '../resampler.ts';
import { enterStage, exitStage, Stage } from '../../telemetry/stage-cpu.ts';
import { FarEnd } from './far-end.ts';
import { FrameMaker } from './frame-maker.ts';
import { Ring } from './frame-ring.ts';
import { Pacer } from './pacer.ts';
import { PrepareAhead } from './prepare-ahead.ts';
import { Segments, type Segment, type SegmentEndListener } from './segments.ts';
import type { PlayoutEngineOptions, PlayoutOutput, PlayoutSink, PlayoutStats, SegmentResult } from './types.ts';
import { QueueWaiters } from './waiters.ts';

export { LATE_TICK_MS } from './lateness.ts';
export type { PlayoutEngineOptions, PlayoutStats } from './types.ts';

interface Queued {
  frame: AudioFrame;
  segment: Segment;
}

const RTP_MOD = 2 ** 32;

export class PlayoutEngine implements PlayoutOutput {
  readonly frameMs: number;
  readonly #sink: PlayoutSink;
  readonly #clock: FrameClock;
  readonly #pacer: Pacer;
  readonly #maker: FrameMaker;
  readonly #ring: Ring<Queued>;
  readonly #segments: Segments;
  readonly #farEnd: FarEnd;
  readonly #waiters: QueueWaiters;
  /** Frames a tick may send: 1, or 2 for a sink with a lead (see the header). */
  readonly #maxPerTick: number;
  readonly #rtpBase: number;
  /** RTP clock ticks per frame (frameMs at rtpClockRate). */
  readonly #rtpTicksPerFrame: number;

  /** Prepares the queue's head ahead of its tick, for a sink that has prepare(). */
  readonly #prepare: PrepareAhead | null;

  /** stop() was called (and no start() since): finish() resolves at once, interrupted. */
  #stopped = false;
  /** pause() was called (and no resume() since): ticks send nothing. */
  #paused = false;

  // Stats.
  #framesSent = 0;
  #droppedFrames = 0;
  #clearedMs = 0;
  #clears = 0;

  /** Builds an engine after loading the resampler's wasm (needed to push audio at other rates). */
  static async create(options: PlayoutEngineOptions): Promise<PlayoutEngine> {
    await initResampler();
    return new PlayoutEngine(options);
  }

  constructor(options: PlayoutEngineOptions) {
    const sink = options.sink;
    this.#sink = sink;
    this.frameMs = options.frameMs ?? 20;
    this.#maker = new FrameMaker(sink.sampleRate, sink.channels ?? 1, this.frameMs, sink.followRates ?? [], options.resampleQuality ?? 5);
    this.#ring = new Ring(Math.floor((options.maxQueueMs ?? 10_000) / this.frameMs));
    this.#clock = options.clock ?? FrameClock.shared(this.frameMs);
    if (this.#clock.frameMs !== this.frameMs) {
      throw new RangeError(`the clock ticks every ${this.#clock.frameMs} ms, the engine's frames are ${this.frameMs} ms`);
    }
    const rtpClockRate = sink.rtpClockRate ?? sink.sampleRate;
    this.#rtpTicksPerFrame = (rtpClockRate * this.frameMs) / 1000;
    if (!Number.isInteger(this.#rtpTicksPerFrame)) {
      throw new RangeError(`${this.frameMs} ms is not a whole number of RTP ticks at ${rtpClockRate} Hz`);
    }
    this.#rtpBase = (options.initialRtpTimestamp ?? Math.floor(Math.random() * RTP_MOD)) >>> 0;
    this.#maxPerTick = sink.leadMs > 0 ? 2 : 1;
    const prepare = sink.prepare;
    this.#prepare = prepare ? new PrepareAhead(prepare.bind(sink), () => this.#ring.peek()?.frame, this.#clock.onError) : null;
    const target = { ready: () => this.#ready(), runTick: (tick: number, now: number, talkspurt: boolean) => this.#runTick(tick, now, talkspurt) };
    this.#pacer = new Pacer(this.#clock, target, options.statsWindow ?? 500);
    this.#segments = new Segments(this.frameMs, this.#clock.onError);
    this.#waiters = new QueueWaiters(() => this.queuedMs());
    this.#farEnd = new FarEnd({
      acknowledges: sink.acknowledges,
      frameMs: this.frameMs,
      slackMs: options.markSlackMs ?? 1000,
      now: this.#clock.now,
      segments: this.#segments,
      onAssumedHeard: () => this.#waiters.check(),
    });
  }

  // --- PlayoutOutput -------------------------------------------------------------------------

  /** Queues reply audio of any rate and channel count; opens a segment if none is open. */
  push(frame: AudioFrame): void {
    // The engine's own work is the 'playout' stage (telemetry/stage-cpu.ts; ticks: pacer.ts), not
    // the sink's prepare and send (PrepareAhead, #runTick) nor resampling ('resample').
    enterStage(Stage.playout);
    try {
      this.#segments.current();
      this.#maker.push(frame, this.#ring.size === 0, this.#enqueue);
      this.#prepare?.now();
      this.#pacer.wake();
    } finally {
      exitStage();
    }
  }

  finish(): Promise<SegmentResult> {
    if (this.#segments.open) {
      this.#maker.flush(this.#enqueue);
      this.#prepare?.now();
      this.#pacer.wake();
    }
    const done = this.#segments.close();
    if (this.#stopped) this.#segments.interruptAll();
    return done;
  }

  clear(): SegmentResult {
    const result = this.#segments.interruptAll();
    this.#clearedMs += this.#ring.size * this.frameMs + this.#maker.pendingMs();
    this.#ring.drain(this.#forget);
    this.#prepare?.headGone();
    this.#maker.reset();
    if (this.#farEnd.drop(this.#clock.now())) {
      this.#clears++;
      try {
        this.#sink.clear();
      } catch (err) {
        this.#clock.onError(err);
      }
    }
    this.#waiters.check();
    return result;
  }

  queuedMs(): number {
    const local = this.#ring.size * this.frameMs + this.#maker.pendingMs();
    return local + this.#farEnd.queuedMs(this.#clock.now());
  }

  whenQueuedAtMost(ms: number, signal: AbortSignal): Promise<boolean> {
    return this.#waiters.wait(ms, signal);
  }

  // --- the far end ---------------------------------------------------------------------------

  /** The far end played every frame up to `seq` (SendMeta.seq); acks for cleared frames are ignored. */
  acknowledge(seq: number): void {
    if (this.#farEnd.acknowledge(seq)) this.#waiters.check();
  }

  /** Sends nothing until resume(); queued audio waits (the far end cannot take it yet). */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#pacer.wake();
  }

  /**
   * The far end's buffer is gone (its stream was lost or replaced): what it held unacknowledged
   * is neither queued nor heard, and the play clock restarts now.
   */
  farBufferLost(): void {
    this.#farEnd.drop(this.#clock.now());
    this.#waiters.check();
  }

  /** Hears each segment's end (its id and result); returns the unsubscribe. */
  onSegmentEnd(cb: SegmentEndListener): () => void {
    return this.#segments.onEnd(cb);
  }

  // --- lifecycle -----------------------------------------------------------------------------

  /**
   * Joins the clock: queued audio goes out at once (see the header), or with the first audio
   * pushed. Restarting after stop() keeps the RTP timestamps on the clock's grid.
   */
  start(): void {
    this.#stopped = false;
    this.#pacer.start();
    this.#farEnd.armSlackTimer();
  }

  /** Leaves the clock; every segment not yet resolved resolves as interrupted. Queued audio stays (see destroy()). */
  stop(): void {
    this.#stopped = true;
    this.#segments.interruptAll();
    this.#farEnd.stopSlackTimer();
    this.#pacer.stop();
  }

  /** Stops, drops all audio and frees the resampler. */
  destroy(): void {
    this.stop();
    this.clear();
    this.#farEnd.stopSlackTimer();
    this.#maker.destroy();
  }

  /** Rate of the frames sent now (it changes only through the sink's followRates). */
  get sampleRate(): number {
    return this.#maker.sampleRate;
  }

  get running(): boolean {
    return this.#pacer.running;
  }

  get paused(): boolean {
    return this.#paused;
  }

  stats(): PlayoutStats {
    return {
      framesSent: this.#framesSent,
      silentTicks: this.#pacer.silentTicks,
      skippedTicks: this.#pacer.skippedTicks,
      droppedMs: this.#droppedFrames * this.frameMs,
      clearedMs: this.#clearedMs,
      queuedMs: this.queuedMs(),
      latenessMs: this.#pacer.lateness.summary(),
      lateTicks: this.#pacer.lateness.lateTicks,
      ticksRun: this.#pacer.lateness.ticksRun,
      heardMs: this.#farEnd.heardFrames * this.frameMs,
      acks: this.#farEnd.acks,
      clears: this.#clears,
    };
  }

  // --- internals -----------------------------------------------------------------------------

  // Bound once: handing them out creates no closure.
  readonly #enqueue = (frame: AudioFrame): void => {
    const segment = this.#segments.current();
    this.#segments.queued(segment);
    const dropped = this.#ring.push({ frame, segment });
    if (dropped) {
      // Full: the oldest frame made room (bounded latency beats completeness).
      this.#prepare?.headGone();
      this.#droppedFrames++;
      this.#segments.gone(dropped.segment);
    }
  };

  readonly #forget = (q: Queued): void => this.#segments.gone(q.segment);

  /** Audio is queued and may be sent. */
  #ready(): boolean {
    return !this.#paused && this.#ring.size > 0;
  }

  /** Sends tick `tick`'s frame (two while a lead sink's buffer is short); returns how many. */
  #runTick(tick: number, now: number, talkspurt: boolean): number {
    let sent = 0;
    while (sent < this.#maxPerTick && this.#ready()) {
      if (sent > 0 && this.#farEnd.playClock - now >= this.#sink.leadMs) break;
      const q = this.#ring.shift()!;
      this.#prepare?.headGone();
      const seq = this.#farEnd.sent(q.segment, now);
      const rtpTicks = (this.#pacer.ticksSinceStart(tick) + sent) * this.#rtpTicksPerFrame;
      const rtpTimestamp = (this.#rtpBase + (rtpTicks % RTP_MOD)) % RTP_MOD;
      const marker = talkspurt && sent === 0;
      this.#framesSent++;
      sent++;
      // The sink's send (its encode counted as 'encode', the rest as transport) is not playout.
      enterStage(Stage.outside);
      try {
        this.#sink.send(q.frame, { seq, rtpTimestamp, marker });
      } catch (err) {
        this.#clock.onError(err);
      } finally {
        exitStage();
      }
    }
    if (sent > 0) {
      this.#prepare?.afterBurst();
      this.#waiters.check();
    }
    return sent;
  }
}
