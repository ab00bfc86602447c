/**
 * The output side of a transport: takes reply audio at any rate and in any chunk sizes, and
 * sends it out one fixed-size frame per tick of a real-time FrameClock, with RTP timestamps.
 *
 * Constraints it encodes:
 * - Pacing comes from a FrameClock (frame-clock.ts): drift-free, never early, skip-ahead after a
 *   stall (the audio stays queued; the receiver's jitter buffer sees a timestamp gap). Outputs
 *   given the process-wide clock tick together, one timer wake-up per frame for all of them;
 *   without one, an output makes a clock of its own.
 * - RTP timestamps are base + (k - k0) * (frameMs at `rtpClockRate`) for clock tick k (k0: the
 *   first start): they follow the clock's grid, also while nothing is sent, so they stay
 *   continuous through silence. `marker` is set on the first packet after ticks that sent
 *   nothing (start of a talkspurt, RFC 3551 section 4.1).
 * - Idle, an output stays on its clock from start() to stop(): an idle tick is a call that sends
 *   nothing and allocates nothing. Staying keeps its place in a shared clock's burst (outputs
 *   run in the order they joined); one that left and rejoined would move to the end, and its
 *   receiver would see the packet spacing jump by up to a burst. With `sendSilence` on, every
 *   idle tick sends one shared, preallocated silence frame.
 * - Talkspurt start without waiting for the grid: audio that arrives after at least one tick
 *   that sent nothing goes out at once (in a microtask), as the tick in progress; it is late on
 *   the grid by up to a frame, never early, and the frames after it follow on the grid. A shared
 *   clock cannot move its grid to each reply, and waiting for the next tick would add up to
 *   frameMs to every turn; sending the tick in progress late adds nothing, and the receiver sees
 *   the packets after it early, never late, against that first one.
 * - Mid-stream, the grid rules: a frame that misses its tick by arriving just after it (a stream
 *   fed in real time, like an echo) waits for the next tick instead of going out at once. Sent
 *   at once, every later frame would follow its arrival, off the shared tick: one burst of sends
 *   per frame for all outputs is what the shared clock is for (see frame-clock.ts); sending each
 *   frame on arrival instead measured no saving at all.
 * - Work ahead of the tick: with `prepare`, the frame at the head of the queue is handed to it
 *   before its tick (the transport encodes it), so a shared clock's burst carries only the
 *   sends: at 60 calls, encoding inside the burst put the last call's packet ~9 ms after the
 *   tick. A frame is prepared when a push makes it the head (a stream fed in real time: on its
 *   arrival), else after the burst in which the frame before it went out (one setImmediate for
 *   all outputs). One frame ahead at most, so a reply pushed all at once is not encoded in one
 *   long stretch that would hold up every other call's tick. Frames go to prepare() in queue
 *   order, each once; one sent before its turn came is not prepared (send() does the work).
 * - Bounded latency: the queue holds at most `maxQueueMs`; pushing beyond drops the oldest audio.
 * - Barge-in: clear() empties the queue at once (the next tick sends nothing) and returns how much
 *   of the current reply was actually sent.
 * - Following the reply's rate: audio pushed at one of `followRates` while nothing is queued
 *   switches the frames' rate to it (send() sees the rate on each frame), so a transport whose
 *   codec takes that rate natively (Opus: 8 to 48 kHz) needs no resampler; resampling a 20 ms
 *   frame costs as much as encoding it. RTP timestamps keep `rtpClockRate` through a switch.
 */
import { FrameClock } from './frame-clock.ts';
import { audioFrame, type AudioFrame } from './frame.ts';
import { toChannels } from './pcm.ts';
import { Reframer } from './reframer.ts';
import { initResampler, StreamResampler } from './resampler.ts';

export interface PacedOutputOptions {
  /** Output rate (e.g. 48000 for Opus/WebRTC, 8000 for Twilio mu-law). */
  sampleRate: number;
  channels: number;
  /** Frame length per tick. Default 20. */
  frameMs?: number;
  /** Most audio kept queued; older audio is dropped beyond it. Default 4000. */
  maxQueueMs?: number;
  /**
   * Called once per tick that has a frame. The frame is exactly frameMs at the output rate; with
   * sendSilence, idle ticks pass one shared silence frame, which must not be modified. Runs in a
   * clock callback: it should not throw (an exception goes to the clock's onError; the clock and
   * the other outputs on it keep going).
   */
  send(frame: AudioFrame, rtpTimestamp: number, marker: boolean): void;
  /**
   * Work for a frame ahead of its tick, e.g. encoding it (see the header): called at most once per
   * frame, in queue order, while the frame waits at the head of the queue. send() gets the same
   * frame object later, or never if it is cleared or dropped meanwhile.
   */
  prepare?(frame: AudioFrame): void;
  /** Called on the first tick with nothing to send after audio was sent (the reply finished playing, or was cleared). */
  onIdle?(): void;
  /**
   * The clock whose ticks it sends on, e.g. FrameClock.shared(20) (its frameMs must match).
   * Default: a clock of its own, built from `now` and `maxLagFrames`.
   */
  clock?: FrameClock;
  /** Clock in ms, for an output's own clock. Default performance.now. */
  now?: () => number;
  /** Send silence frames on idle ticks instead of nothing. Default false. */
  sendSilence?: boolean;
  /** For an output's own clock: ticks it may fall behind before it skips ahead. Default 5. */
  maxLagFrames?: number;
  /** RTP timestamp of tick 0. Default random, as RFC 3550 recommends. */
  initialRtpTimestamp?: number;
  /** Speex quality used when input must be resampled. Default 5. */
  resampleQuality?: number;
  /**
   * Rates the output switches its frames to when audio at that rate is pushed while nothing is
   * queued (see the header). Default none: every frame is at `sampleRate`.
   */
  followRates?: readonly number[];
  /** Clock rate of the RTP timestamps passed to send(). Default `sampleRate` (Opus: 48000 whatever the frame rate). */
  rtpClockRate?: number;
  /** Ticks kept for the lateness percentiles. Default 500. */
  statsWindow?: number;
}

export interface PacedOutputStats {
  framesSent: number;
  /** Ticks that had no audio (sent nothing, or silence with sendSilence). */
  silentTicks: number;
  /** Ticks passed over by skip-ahead after a stall. */
  skippedTicks: number;
  /** Audio dropped because the queue was full. */
  droppedMs: number;
  /** Audio dropped by clear(). */
  clearedMs: number;
  queuedMs: number;
  /** How late ticks fired vs their due time, over the last `statsWindow` ticks. */
  latenessMs: { p50: number; p99: number; max: number; count: number };
  /** Ticks that fired more than LATE_TICK_MS after their due time, since creation. */
  lateTicks: number;
  /** Ticks the clock ran (each one's lateness is measured), since creation: lateTicks' denominator. */
  ticksRun: number;
}

/** A tick later than this is counted as a late frame (the `frames late` metric). */
export const LATE_TICK_MS = 10;

const RTP_MOD = 2 ** 32;

export class PacedOutput {
  readonly channels: number;
  readonly frameMs: number;
  /** RTP clock ticks per frame (frameMs at rtpClockRate). */
  readonly #rtpTicksPerFrame: number;
  readonly #rtpClockRate: number;
  readonly #followRates: ReadonlySet<number>;
  readonly #send: PacedOutputOptions['send'];
  readonly #onIdle: (() => void) | undefined;
  readonly #prepare: ((frame: AudioFrame) => void) | undefined;
  /** The head of the queue has been prepared. */
  #headPrepared = false;
  /** A prepare of the head is waiting for the end of the burst. */
  #preparePending = false;
  readonly #sendSilence: boolean;
  readonly #resampleQuality: number;
  /** The clock it ticks on; an output's own clock is made by the first start(), its tick 0 then. */
  #clock: FrameClock | null;
  readonly #ownClock: { now: (() => number) | undefined; maxLagFrames: number | undefined };
  /** RTP timestamp of clock tick #tick0. */
  readonly #rtpBase: number;

  // Queue: a fixed ring of whole frames (capacity = maxQueueMs / frameMs), no shifting.
  readonly #ring: (AudioFrame | undefined)[];
  #head = 0;
  #size = 0;

  #reframer: Reframer;
  #resampler: StreamResampler | null = null;
  #silence: AudioFrame;

  // Clock state, in the clock's tick indices.
  /** Between start() and stop(): on the clock (its listener registered). */
  #running = false;
  /** A talkspurt start is queued as a microtask. */
  #wakePending = false;
  /** The last tick run (by the clock or at once). */
  #lastRunTick = -Infinity;
  /** The tick RTP timestamps count from (set by the first start()). */
  #tick0: number | null = null;
  /** Index of the next tick this output handles. */
  #tick = 0;
  /** The last tick that sent a packet / sent audio. */
  #lastPacketTick = -Infinity;
  #lastAudioTick = -Infinity;
  #playing = false;

  // Stats.
  #framesSent = 0;
  #silentTicks = 0;
  #skippedTicks = 0;
  #droppedFrames = 0;
  #clearedMs = 0;
  #replyFrames = 0;
  readonly #lateness: Float64Array;
  #latenessCount = 0;
  #lateTicks = 0;

  /** Builds a PacedOutput after loading the resampler's wasm (needed to push audio at other rates). */
  static async create(options: PacedOutputOptions): Promise<PacedOutput> {
    await initResampler();
    return new PacedOutput(options);
  }

  constructor(options: PacedOutputOptions) {
    this.channels = options.channels;
    this.frameMs = options.frameMs ?? 20;
    this.#reframer = new Reframer(options.sampleRate, this.channels, this.frameMs); // validates rate/channels/frameMs
    const maxQueueMs = options.maxQueueMs ?? 4000;
    const capacity = Math.max(1, Math.floor(maxQueueMs / this.frameMs));
    this.#ring = new Array<AudioFrame | undefined>(capacity).fill(undefined);
    this.#send = options.send;
    this.#onIdle = options.onIdle;
    this.#prepare = options.prepare;
    this.#sendSilence = options.sendSilence ?? false;
    this.#resampleQuality = options.resampleQuality ?? 5;
    this.#rtpBase = (options.initialRtpTimestamp ?? Math.floor(Math.random() * RTP_MOD)) >>> 0;
    this.#rtpClockRate = options.rtpClockRate ?? this.sampleRate;
    this.#rtpTicksPerFrame = (this.#rtpClockRate * this.frameMs) / 1000;
    if (!Number.isInteger(this.#rtpTicksPerFrame)) {
      throw new RangeError(`${this.frameMs} ms is not a whole number of RTP ticks at ${this.#rtpClockRate} Hz`);
    }
    this.#followRates = new Set(options.followRates ?? []);
    for (const r of this.#followRates) new Reframer(r, this.channels, this.frameMs); // validates each rate up front
    this.#silence = audioFrame(new Int16Array(this.samplesPerFrame * this.channels), this.sampleRate, this.channels);
    this.#lateness = new Float64Array(Math.max(1, options.statsWindow ?? 500));
    if (options.clock) {
      if (options.now || options.maxLagFrames !== undefined) {
        throw new RangeError('now and maxLagFrames belong to the clock: give them to the FrameClock passed as `clock`');
      }
      if (options.clock.frameMs !== this.frameMs) {
        throw new RangeError(`the clock ticks every ${options.clock.frameMs} ms, the output's frames are ${this.frameMs} ms`);
      }
    }
    this.#clock = options.clock ?? null;
    this.#ownClock = { now: options.now, maxLagFrames: options.maxLagFrames };
  }

  /**
   * Queues reply audio of any rate and channel count (converted to the output format). Whole
   * frames become playable at once; a shorter tail waits for more audio or flushReply().
   */
  push(frame: AudioFrame): void {
    let f = toChannels(frame, this.channels);
    if (f.sampleRate !== this.sampleRate && this.#followRates.has(f.sampleRate)) this.#follow(f.sampleRate);
    const old = this.#resampler;
    if (old && old.fromRate !== f.sampleRate) {
      // The input rate changed mid-reply: drain the old stream first so nothing is lost or reordered.
      const tail = old.flush();
      if (tail.samples.length > 0) this.#enqueueAll(this.#reframer.push(tail));
      old.destroy();
      this.#resampler = null;
    }
    if (f.sampleRate !== this.sampleRate) {
      this.#resampler ??= new StreamResampler(f.sampleRate, this.sampleRate, this.channels, this.#resampleQuality);
      f = this.#resampler.process(f);
    }
    if (f.samples.length > 0) this.#enqueueAll(this.#reframer.push(f));
    this.#prepareHead();
    this.#wake();
  }

  /** End of a reply: drains the resampler and pads the last partial frame with silence so it plays. */
  flushReply(): void {
    const r = this.#resampler;
    if (r) {
      const tail = r.flush();
      if (tail.samples.length > 0) this.#enqueueAll(this.#reframer.push(tail));
    }
    const last = this.#reframer.flush(true);
    if (last) this.#enqueueAll([last]);
    this.#prepareHead();
    this.#wake();
  }

  /** Starts counting the current reply's sent audio (what clear() reports). */
  markReplyStart(): void {
    this.#replyFrames = 0;
  }

  /**
   * Drops all queued and partial audio at once (barge-in) and returns the ms of the current reply
   * sent since the last markReplyStart() (the count is kept until the next markReplyStart()).
   */
  clear(): number {
    this.#clearedMs += this.#size * this.frameMs + this.#reframer.pendingMs();
    this.#ring.fill(undefined);
    this.#head = 0;
    this.#size = 0;
    this.#headPrepared = false;
    this.#reframer.clear();
    this.#resampler?.reset();
    return this.#replyFrames * this.frameMs;
  }

  /** Ms of audio queued and not yet sent (including a partial frame). */
  queuedMs(): number {
    return this.#size * this.frameMs + this.#reframer.pendingMs();
  }

  /**
   * Starts sending: queued audio goes out at once (see the header), or with the first audio
   * pushed; with sendSilence, silence from the next tick. Restarting after stop() keeps the RTP
   * timestamps on the clock's grid: they advance over the pause, as over silence.
   */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#clock ??= new FrameClock({ frameMs: this.frameMs, ...this.#ownClock });
    const current = this.#currentTick();
    this.#tick0 ??= current;
    this.#lastPacketTick = -Infinity;
    this.#lastAudioTick = -Infinity;
    this.#tick = Math.max(this.#tick, current);
    if ((this.#size > 0 || this.#sendSilence) && this.#lastRunTick < current) this.#runAtOnce(current);
    this.#tick = Math.max(this.#tick, current + 1);
    this.#clock.add(this.#onTick);
  }

  /** Stops sending and leaves the clock. Queued audio stays (see destroy()). */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#clock!.delete(this.#onTick);
  }

  /** Stops, drops all audio and frees the resampler. */
  destroy(): void {
    this.stop();
    this.clear();
    this.#resampler?.destroy();
    this.#resampler = null;
  }

  /** Rate of the frames sent now (it changes only through followRates). */
  get sampleRate(): number {
    return this.#reframer.sampleRate;
  }

  /** Samples per channel in each frame sent now. */
  get samplesPerFrame(): number {
    return this.#reframer.frameSamples;
  }

  get running(): boolean {
    return this.#running;
  }

  stats(): PacedOutputStats {
    const n = Math.min(this.#latenessCount, this.#lateness.length);
    const sorted = this.#lateness.slice(0, n).sort();
    const at = (q: number): number => (n === 0 ? 0 : sorted[Math.min(n - 1, Math.floor(q * n))]!);
    return {
      framesSent: this.#framesSent,
      silentTicks: this.#silentTicks,
      skippedTicks: this.#skippedTicks,
      droppedMs: this.#droppedFrames * this.frameMs,
      clearedMs: this.#clearedMs,
      queuedMs: this.queuedMs(),
      latenessMs: { p50: at(0.5), p99: at(0.99), max: n === 0 ? 0 : sorted[n - 1]!, count: n },
      lateTicks: this.#lateTicks,
      ticksRun: this.#latenessCount,
    };
  }

  /** Switches frames to `rate` if nothing is queued (see the header); else the audio is resampled as usual. */
  #follow(rate: number): void {
    if (this.#size > 0 || this.#reframer.pendingMs() > 0) return;
    const r = this.#resampler;
    if (r) {
      // A resampler left from an unfinished reply: its tail is audio still to play at the old rate.
      const tail = r.flush();
      r.destroy();
      this.#resampler = null;
      if (tail.samples.length > 0) {
        this.#enqueueAll(this.#reframer.push(tail));
        return;
      }
    }
    this.#reframer = new Reframer(rate, this.channels, this.frameMs);
    this.#silence = audioFrame(new Int16Array(this.samplesPerFrame * this.channels), rate, this.channels);
  }

  #enqueueAll(frames: readonly AudioFrame[]): void {
    const cap = this.#ring.length;
    for (const f of frames) {
      if (this.#size === cap) {
        // Full: drop the oldest frame to make room (bounded latency beats completeness).
        this.#headPrepared = false;
        this.#ring[this.#head] = undefined;
        this.#head = (this.#head + 1) % cap;
        this.#size--;
        this.#droppedFrames++;
      }
      this.#ring[(this.#head + this.#size) % cap] = f;
      this.#size++;
    }
  }

  #dequeue(): AudioFrame | undefined {
    if (this.#size === 0) return undefined;
    const f = this.#ring[this.#head];
    this.#headPrepared = false;
    this.#ring[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#ring.length;
    this.#size--;
    return f;
  }

  /** Prepares the head of the queue if it is waiting unprepared (see the header). */
  #prepareHead(): void {
    if (!this.#prepare || this.#headPrepared || this.#size === 0) return;
    this.#headPrepared = true;
    try {
      this.#prepare(this.#ring[this.#head]!);
    } catch (err) {
      (this.#clock?.onError ?? console.error)(err);
    }
  }

  /** Prepares the new head once the burst in progress is over (one setImmediate for all outputs). */
  #prepareAfterBurst(): void {
    if (!this.#prepare || this.#preparePending || this.#size === 0) return;
    this.#preparePending = true;
    afterBurst.push(this.#onAfterBurst);
    if (afterBurst.length === 1) setImmediate(runAfterBurst);
  }

  // Bound once: queuing it creates no closure.
  readonly #onAfterBurst = (): void => {
    this.#preparePending = false;
    this.#prepareHead();
  };

  /** The clock tick whose period holds the present: the last one due. */
  #currentTick(): number {
    return this.#clock!.lastDueAt(this.#clock!.now());
  }

  /** Audio arrived: while idle, a talkspurt may start at once, in a microtask (see the header). */
  #wake(): void {
    if (!this.#running || this.#playing || this.#wakePending || this.#size === 0) return;
    this.#wakePending = true;
    queueMicrotask(this.#onWake);
  }

  readonly #onWake = (): void => {
    this.#wakePending = false;
    if (!this.#running || this.#size === 0) return;
    const current = this.#currentTick();
    // A talkspurt after a gap: the tick in progress sent nothing, so this frame is it, late but at once.
    if (this.#lastPacketTick < current - 1) this.#runAtOnce(current);
  };

  /** Runs tick `current` now, outside the clock: counted as it went (the clock may have run it empty already). */
  #runAtOnce(current: number): void {
    if (this.#lastRunTick === current) this.#silentTicks--;
    else if (current > this.#tick) this.#silentTicks += current - this.#tick; // ticks the clock has not run yet (catching up)
    try {
      this.#run(current);
    } catch (err) {
      this.#clock!.onError(err);
    }
  }

  // Bound once: joining the clock creates no closure.
  readonly #onTick = (tick: number, now: number): boolean => {
    if (tick < this.#tick) return false; // a tick from before this output joined (the clock catching up)
    const late = now - this.#clock!.dueAt(this.#tick);
    this.#lateness[this.#latenessCount++ % this.#lateness.length] = late > 0 ? late : 0;
    if (late > LATE_TICK_MS) this.#lateTicks++;
    // The clock skipped ahead after a stall: the ticks in between never ran.
    if (tick > this.#tick) this.#skippedTicks += tick - this.#tick;
    this.#tick = tick;
    return this.#run(tick);
  };

  /** Tick `tick`: sends its frame (or silence, or nothing); calls onIdle when a reply just finished. True if it sent. */
  #run(tick: number): boolean {
    this.#lastRunTick = tick;
    const ts = (this.#rtpBase + (((tick - this.#tick0!) * this.#rtpTicksPerFrame) % RTP_MOD)) % RTP_MOD;
    const frame = this.#dequeue();
    let marker = false;
    let idleNow = false;
    if (frame) {
      // Start of a talkspurt: the previous tick carried no audio (nothing, or silence frames).
      marker = this.#lastAudioTick !== tick - 1;
      this.#lastAudioTick = tick;
      this.#lastPacketTick = tick;
      this.#framesSent++;
      this.#replyFrames++;
      this.#playing = true;
    } else {
      this.#silentTicks++;
      if (this.#sendSilence) {
        // A silence packet is marked only when it follows a gap in packets (first one, or after a stall).
        marker = this.#lastPacketTick !== tick - 1;
        this.#lastPacketTick = tick;
      }
      idleNow = this.#playing;
      this.#playing = false;
    }
    this.#tick = tick + 1;
    if (frame) this.#send(frame, ts, marker);
    else if (this.#sendSilence) this.#send(this.#silence, ts, marker);
    if (idleNow) this.#onIdle?.();
    this.#prepareAfterBurst();
    return frame !== undefined || this.#sendSilence;
  }
}

/** Outputs' prepares waiting for the end of the current burst of sends. */
const afterBurst: (() => void)[] = [];
function runAfterBurst(): void {
  for (const prepare of afterBurst.splice(0)) prepare();
}
