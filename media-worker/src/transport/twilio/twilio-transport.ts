/**
 * A phone call carried by a bidirectional Twilio Media Stream (`<Connect><Stream>`). The session
 * owns the WebSocket (piped through the edge): it hands every inbound message to `receive()` and
 * writes whatever `send` is given. This class decodes, paces and does playback accounting.
 *
 * Constraints it encodes:
 * - Nothing is sent before `start` (there is no streamSid to address). Audio played earlier (an
 *   outbound call's greeting) is queued and goes out the moment `start` arrives.
 * - Twilio buffers what we send and plays it in real time, so the buffer there is kept short: a
 *   play clock tracks when everything sent so far will have played; chunks go out only while it
 *   is less than `leadMs` ahead of now, at most 2 per tick (never faster than ~2x real time).
 *   The tick grid is drift-free (each timeout is armed for due - now); with nothing queued the
 *   timer sleeps and play() wakes it.
 * - Playback truth comes from marks: one after every chunk. Twilio echoes a mark when the audio
 *   before it has played, and echoes every outstanding mark at once on `clear`: those echoes
 *   (marks sent before our clear, arriving after it) are not counted as heard.
 * - A peer that never echoes marks cannot hang the pipeline: queuedMs() falls back to the play
 *   clock when the unconfirmed audio exceeds it by more than MARK_SLACK_MS.
 * - Bounded latency: at most `maxQueueMs` is queued locally; older audio is dropped.
 * - A stream can be replaced mid-call (the edge restarted; Twilio asked `<Connect action>` and
 *   opened a new one): `streamLost()` pauses sending, and a later `start` for the same call
 *   switches to the new streamSid with an empty Twilio buffer (the old stream's marks never come
 *   back). A `start` for another call is ignored; one for the current stream is a replay.
 * - A call that brings no media for `noMediaMs` (10 s) after its `start` is closed as `no_media`:
 *   Twilio sends a frame every 20 ms while a stream lives, so silence that long means it is gone.
 *
 * Resampling reply audio needs the resampler's wasm loaded (`initResampler()` or `create()`).
 */
import type { ChannelMessage, TwilioInbound, TwilioOutbound } from '@switchboard/protocol';
import type { AudioFrame } from '../../audio/frame.ts';
import { LATE_TICK_MS } from '../../audio/paced-output.ts';
import { toChannels } from '../../audio/pcm.ts';
import { Reframer } from '../../audio/reframer.ts';
import { initResampler, StreamResampler } from '../../audio/resampler.ts';
import type { MediaTransport } from '../types.ts';
import {
  decodeTwilio,
  encodeClear,
  encodeMark,
  encodeMedia,
  TWILIO_SAMPLE_RATE,
  type TwilioStartInfo,
} from './twilio-serializer.ts';

export type { TwilioStartInfo } from './twilio-serializer.ts';

export interface TwilioTransportOptions {
  /**
   * Writes messages to Twilio's WebSocket, in order. A chunk's media and its mark come in one
   * call, so the session can carry them through the edge as one message. Should not throw (a
   * throw is logged and ignored).
   */
  send(messages: TwilioOutbound[]): void;
  /** Clock in ms. Default performance.now. */
  now?: () => number;
  /** Length of each media message. Default 20 (160 samples at 8 kHz). */
  chunkMs?: number;
  /** Most audio kept ahead of real time in Twilio's buffer. Default 200. */
  leadMs?: number;
  /** Most audio queued locally; older audio is dropped beyond it. Default 10000. */
  maxQueueMs?: number;
  /** Closes the call as `no_media` when no media arrives for this long after `start` (0: never). Default 10000. */
  noMediaMs?: number;
  log?: (m: string) => void;
}

export interface TwilioTransportStats {
  chunksSent: number;
  marksSent: number;
  /** Mark echoes that counted as played (late echoes after a clear and unknown names excluded). */
  marksAcked: number;
  clears: number;
  /** Audio confirmed played by marks, over the whole call. */
  heardMs: number;
  /** Audio dropped because the local queue was full. */
  droppedMs: number;
  queuedMs: number;
  /** How late ticks fired vs their due time, over the last STATS_WINDOW ticks. */
  latenessMs: { p50: number; p99: number; max: number; count: number };
  /** Ticks that fired more than LATE_TICK_MS after their due time. */
  lateTicks: number;
  /** Ticks the clock ran (each one's lateness is measured), since creation: lateTicks' denominator. */
  ticksRun: number;
}

/** Unconfirmed audio may exceed the play clock's figure by this much before the clock is trusted instead. */
export const MARK_SLACK_MS = 1000;
/** Default of TwilioTransportOptions.noMediaMs. */
export const NO_MEDIA_MS = 10_000;
/** Chunks sent per tick at most: catching up to the lead runs at 2x real time, no faster. */
const MAX_CHUNKS_PER_TICK = 2;
const STATS_WINDOW = 500;

/** What a sent mark stands for: which reply, and how much of it had been sent up to it. */
interface SentMark {
  reply: number;
  replyMs: number;
}

export class TwilioTransport implements MediaTransport {
  readonly kind = 'phone' as const;
  readonly #send: (messages: TwilioOutbound[]) => void;
  readonly #now: () => number;
  readonly #log: (m: string) => void;
  readonly #chunkMs: number;
  readonly #leadMs: number;
  readonly #maxChunks: number;
  readonly #noMediaMs: number;

  readonly #audioListeners = new Set<(f: AudioFrame) => void>();
  readonly #eventListeners = new Set<(e: ChannelMessage) => void>();
  readonly #closeListeners = new Set<(reason: string) => void>();
  readonly #startListeners = new Set<(info: TwilioStartInfo) => void>();
  #start: TwilioStartInfo | undefined;
  #closed = false;
  #closeReason = '';
  /** The stream closed without `stop`; nothing is sent until the next `start` for this call. */
  #lost = false;
  #streams = 0;
  #lastFrameAt = 0;
  #watchdog: ReturnType<typeof setTimeout> | null = null;

  // Output: mono 8 kHz chunks of chunkMs, oldest first.
  readonly #reframer: Reframer;
  #resampler: StreamResampler | null = null;
  #queue: AudioFrame[] = [];

  // Pacing.
  #timer: ReturnType<typeof setTimeout> | null = null;
  #due = 0;
  /** When everything sent so far will have played at Twilio, if played in real time. */
  #playClock = 0;

  // Replies and marks.
  /** Mark names are `${prefix}${n}`: the prefix keeps them apart from another worker's marks. */
  readonly #markPrefix = `sb${Math.random().toString(36).slice(2, 8)}-`;
  #markSeq = 0;
  /** Marks sent and not echoed yet, in send order (Map keeps insertion order). */
  readonly #pendingMarks = new Map<number, SentMark>();
  /** The last mark sent when we last sent `clear`: later echoes up to it are flushes, not playback. */
  #clearedThrough = 0;
  #sentSinceClear = false;
  #reply = 0;
  #replyActive = false;
  #replySentMs = 0;
  #replyHeardMs = 0;

  // Stats.
  #chunksSent = 0;
  #marksAcked = 0;
  #clears = 0;
  #heardMs = 0;
  #droppedChunks = 0;
  #sendErrors = 0;
  readonly #lateness = new Float64Array(STATS_WINDOW);
  #latenessCount = 0;
  #lateTicks = 0;

  /** Builds a transport after loading the resampler's wasm (needed to play audio not at 8 kHz). */
  static async create(opts: TwilioTransportOptions): Promise<TwilioTransport> {
    await initResampler();
    return new TwilioTransport(opts);
  }

  constructor(opts: TwilioTransportOptions) {
    this.#send = opts.send;
    this.#now = opts.now ?? (() => performance.now());
    this.#log = opts.log ?? (() => {});
    this.#chunkMs = opts.chunkMs ?? 20;
    this.#leadMs = opts.leadMs ?? 200;
    this.#reframer = new Reframer(TWILIO_SAMPLE_RATE, 1, this.#chunkMs); // validates chunkMs
    this.#maxChunks = Math.max(1, Math.floor((opts.maxQueueMs ?? 10_000) / this.#chunkMs));
    this.#noMediaMs = opts.noMediaMs ?? NO_MEDIA_MS;
  }

  /** The stream's id, once `start` has arrived. */
  get streamSid(): string | undefined {
    return this.#start?.streamSid;
  }

  // --- inbound -------------------------------------------------------------------------------

  /** Takes one message from Twilio. A message that fails to decode is logged and dropped. */
  receive(msg: TwilioInbound): void {
    if (this.#closed) return;
    let d;
    try {
      d = decodeTwilio(msg, { sampleRate: this.#start?.sampleRate ?? TWILIO_SAMPLE_RATE });
    } catch (err) {
      this.#log(`twilio: dropped ${msg.event} message: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    switch (d.kind) {
      case 'connected':
        return;
      case 'start': {
        const { kind: _, ...info } = d;
        this.#lastFrameAt = this.#now();
        if (this.#start) {
          this.#replaceStream(info);
          return;
        }
        this.#start = info;
        this.#streams = 1;
        this.#playClock = this.#now();
        this.#armWatchdog();
        for (const l of this.#startListeners) l(info);
        this.#startListeners.clear();
        this.#wake(); // a greeting queued before start goes out now
        return;
      }
      case 'audio':
        this.#lastFrameAt = this.#now();
        for (const l of this.#audioListeners) l(d.frame);
        return;
      case 'dtmf':
        for (const l of this.#eventListeners) l({ type: 'dtmf', digit: d.digit });
        return;
      case 'mark':
        this.#onMark(d.name);
        return;
      case 'stop':
        this.close('phone_hangup');
        return;
    }
  }

  /**
   * Twilio's stream closed without `stop` (the edge says `twilio.lost`): sending pauses, the audio
   * Twilio held is gone (unconfirmed marks dropped), and the local queue waits for the next
   * stream's `start`.
   */
  streamLost(): void {
    if (this.#closed || !this.#start || this.#lost) return;
    this.#lost = true;
    this.#dropTwilioBuffer();
    this.#log(`twilio: stream ${this.#start.streamSid} lost; waiting for a new one`);
  }

  /** How many streams have carried this call (1 until one was replaced). */
  get streams(): number {
    return this.#streams;
  }

  /** Called once with the stream's details when `start` arrives (at once if it already has). */
  onStart(cb: (info: TwilioStartInfo) => void): () => void {
    if (this.#start) {
      cb(this.#start);
      return () => {};
    }
    this.#startListeners.add(cb);
    return () => this.#startListeners.delete(cb);
  }

  onAudio(cb: (frame: AudioFrame) => void): () => void {
    this.#audioListeners.add(cb);
    return () => this.#audioListeners.delete(cb);
  }

  onEvent(cb: (event: ChannelMessage) => void): () => void {
    this.#eventListeners.add(cb);
    return () => this.#eventListeners.delete(cb);
  }

  onClose(cb: (reason: string) => void): () => void {
    if (this.#closed) {
      cb(this.#closeReason);
      return () => {};
    }
    this.#closeListeners.add(cb);
    return () => this.#closeListeners.delete(cb);
  }

  // --- outbound ------------------------------------------------------------------------------

  /** Queues reply audio of any rate and channel count (converted to 8 kHz mono). */
  play(frame: AudioFrame): void {
    if (this.#closed) return;
    // A new reply starts when none is active or everything before has played (like WebRtcTransport).
    if (!this.#replyActive || this.queuedMs() === 0) {
      this.#reply++;
      this.#replyActive = true;
      this.#replySentMs = 0;
      this.#replyHeardMs = 0;
    }
    let f = toChannels(frame, 1);
    const old = this.#resampler;
    if (old && old.fromRate !== f.sampleRate) {
      // The input rate changed mid-reply: drain the old stream first so nothing is lost or reordered.
      this.#enqueueResampled(old.flush());
      old.destroy();
      this.#resampler = null;
    }
    if (f.sampleRate !== TWILIO_SAMPLE_RATE) {
      this.#resampler ??= new StreamResampler(f.sampleRate, TWILIO_SAMPLE_RATE, 1);
      f = this.#resampler.process(f);
    }
    this.#enqueueResampled(f);
    this.#wake();
  }

  /** End of a reply: drains the resampler and pads the last partial chunk with silence so it plays. */
  finishPlayback(): void {
    if (this.#closed) return;
    if (this.#resampler) this.#enqueueResampled(this.#resampler.flush());
    const last = this.#reframer.flush(true);
    if (last) this.#enqueue(last);
    this.#wake();
  }

  /**
   * Barge-in: drops the local queue, tells Twilio to drop its buffer, and returns the ms of the
   * current reply that marks have confirmed as played so far (kept until the next reply starts).
   */
  clearPlayback(): number {
    this.#replyActive = false;
    this.#queue = [];
    this.#reframer.clear();
    this.#resampler?.reset();
    if (this.#start && this.#sentSinceClear && !this.#closed) {
      this.#clearedThrough = this.#markSeq;
      this.#pendingMarks.clear(); // Twilio drops that audio: it is neither queued nor heard
      this.#sentSinceClear = false;
      this.#clears++;
      this.#sendSafely([encodeClear(this.#start.streamSid)]);
      this.#playClock = this.#now(); // Twilio's buffer is empty again
    }
    return this.#replyHeardMs;
  }

  /** Ms not yet played: the local queue plus what Twilio holds (per marks, bounded by the play clock). */
  queuedMs(): number {
    const local = this.#queue.length * this.#chunkMs + this.#reframer.pendingMs();
    const unconfirmed = this.#pendingMarks.size * this.#chunkMs;
    const byClock = Math.max(0, this.#playClock - this.#now());
    // A peer that never echoes marks would leave `unconfirmed` up forever: trust the clock then.
    return local + (unconfirmed > byClock + MARK_SLACK_MS ? byClock : unconfirmed);
  }

  /** A phone has no data channel: events are dropped. */
  sendEvent(_event: ChannelMessage): void {}

  /** Stops sending and fires the close listeners once; later calls do nothing. */
  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason = reason;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#watchdog !== null) clearTimeout(this.#watchdog);
    this.#watchdog = null;
    this.#queue = [];
    this.#reframer.clear();
    this.#resampler?.destroy();
    this.#resampler = null;
    this.#pendingMarks.clear();
    const listeners = [...this.#closeListeners];
    this.#closeListeners.clear();
    this.#audioListeners.clear();
    this.#eventListeners.clear();
    this.#startListeners.clear();
    for (const l of listeners) l(reason);
  }

  stats(): TwilioTransportStats {
    const n = Math.min(this.#latenessCount, this.#lateness.length);
    const sorted = this.#lateness.slice(0, n).sort();
    const at = (q: number): number => (n === 0 ? 0 : sorted[Math.min(n - 1, Math.floor(q * n))]!);
    return {
      chunksSent: this.#chunksSent,
      marksSent: this.#markSeq,
      marksAcked: this.#marksAcked,
      clears: this.#clears,
      heardMs: this.#heardMs,
      droppedMs: this.#droppedChunks * this.#chunkMs,
      queuedMs: this.queuedMs(),
      latenessMs: { p50: at(0.5), p99: at(0.99), max: n === 0 ? 0 : sorted[n - 1]!, count: n },
      lateTicks: this.#lateTicks,
      ticksRun: this.#latenessCount,
    };
  }

  // --- internals -----------------------------------------------------------------------------

  /** A `start` after the first: a new stream for the same call replaces the old one. */
  #replaceStream(info: TwilioStartInfo): void {
    const current = this.#start!;
    if (info.streamSid === current.streamSid) return; // the same start replayed (the worker dialled back in)
    if (info.callSid !== current.callSid) {
      this.#log(`twilio: ignored a start for another call (${info.callSid})`);
      return;
    }
    this.#dropTwilioBuffer();
    this.#start = info;
    this.#streams++;
    this.#lost = false;
    this.#playClock = this.#now();
    this.#log(`twilio: call ${info.callSid} goes on in stream ${info.streamSid}`);
    this.#wake();
  }

  /** The stream's buffer at Twilio is gone: its marks will never be echoed and nothing of it plays. */
  #dropTwilioBuffer(): void {
    this.#clearedThrough = this.#markSeq;
    this.#pendingMarks.clear();
    this.#sentSinceClear = false;
    this.#playClock = this.#now();
  }

  /** Closes the call as `no_media` once no frame has arrived for noMediaMs. */
  #armWatchdog(): void {
    if (this.#noMediaMs <= 0) return; // 0: no watchdog
    const due = this.#lastFrameAt + this.#noMediaMs - this.#now();
    this.#watchdog = setTimeout(() => {
      this.#watchdog = null;
      if (this.#closed) return;
      if (this.#now() - this.#lastFrameAt >= this.#noMediaMs) this.close('no_media');
      else this.#armWatchdog();
    }, Math.max(0, due));
    (this.#watchdog as { unref?: () => void }).unref?.();
  }

  /** Mark echo: counts the audio up to it as heard, unless it is a flush echo or not ours. */
  #onMark(name: string): void {
    if (!name.startsWith(this.#markPrefix)) return; // another worker's mark (after a takeover)
    const seq = Number(name.slice(this.#markPrefix.length));
    if (!Number.isInteger(seq) || seq <= this.#clearedThrough) return; // echoed by our clear: not played
    const mark = this.#pendingMarks.get(seq);
    if (!mark) return; // unknown or already counted
    this.#marksAcked++;
    if (mark.reply === this.#reply) this.#replyHeardMs = mark.replyMs;
    // Echoes come in send order; any earlier mark still pending has played too.
    for (const k of this.#pendingMarks.keys()) {
      if (k > seq) break;
      this.#pendingMarks.delete(k);
      this.#heardMs += this.#chunkMs;
    }
  }

  #enqueueResampled(f: AudioFrame): void {
    if (f.samples.length === 0) return;
    for (const chunk of this.#reframer.push(f)) this.#enqueue(chunk);
  }

  #enqueue(chunk: AudioFrame): void {
    if (this.#queue.length >= this.#maxChunks) {
      this.#queue.shift(); // full: drop the oldest (bounded latency beats completeness)
      this.#droppedChunks++;
    }
    this.#queue.push(chunk);
  }

  /** Starts a sleeping clock: the first tick is due now, the grid continues from there. */
  #wake(): void {
    if (this.#closed || !this.#start || this.#lost || this.#timer !== null || this.#queue.length === 0) return;
    this.#due = this.#now();
    this.#arm();
  }

  #arm(): void {
    const delay = this.#due - this.#now();
    this.#timer = setTimeout(this.#onTick, delay > 0 ? delay : 0);
  }

  // Bound once: re-arming the timer creates no closure.
  readonly #onTick = (): void => {
    this.#timer = null;
    if (this.#closed || !this.#start || this.#lost) return; // a lost stream: play() or the next start wakes the clock
    const now = this.#now();
    const late = now - this.#due;
    if (late < -1) {
      // Fired early (Node arms timers from a cached loop time, truncated to whole ms): wait it out.
      this.#arm();
      return;
    }
    this.#lateness[this.#latenessCount++ % STATS_WINDOW] = late > 0 ? late : 0;
    if (late > LATE_TICK_MS) this.#lateTicks++;
    // Send while Twilio holds less than leadMs, at most MAX_CHUNKS_PER_TICK this tick.
    for (let sent = 0; sent < MAX_CHUNKS_PER_TICK && this.#queue.length > 0 && this.#playClock - now < this.#leadMs; sent++) {
      this.#sendChunk(this.#queue.shift()!, now);
      if (this.#closed) return; // `send` may have closed us
    }
    // Next grid point after now: a stalled process skips ticks instead of bursting them.
    this.#due += (Math.max(0, Math.floor(late / this.#chunkMs)) + 1) * this.#chunkMs;
    if (this.#queue.length > 0) this.#arm(); // else sleep until play() wakes the clock
  };

  /** One media message and the mark that reports when it has played. */
  #sendChunk(chunk: AudioFrame, now: number): void {
    const sid = this.#start!.streamSid;
    const media = encodeMedia(sid, chunk);
    this.#chunksSent++;
    this.#replySentMs += this.#chunkMs;
    this.#playClock = Math.max(this.#playClock, now) + this.#chunkMs;
    this.#sentSinceClear = true;
    const seq = ++this.#markSeq;
    this.#pendingMarks.set(seq, { reply: this.#reply, replyMs: this.#replySentMs });
    this.#sendSafely([media, encodeMark(sid, `${this.#markPrefix}${seq}`)]);
  }

  #sendSafely(msg: TwilioOutbound[]): void {
    if (this.#closed) return;
    try {
      this.#send(msg);
    } catch (err) {
      // Runs in a timer callback: a throw would be uncaught. Logged once; the session sees the socket close.
      if (this.#sendErrors++ === 0) this.#log(`twilio: send failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
