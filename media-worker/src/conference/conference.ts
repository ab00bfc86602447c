/**
 * A session's conference: its legs' transports joined through one ConferenceMixer, driven by the
 * shared frame clock. Each tick every leg hears the mix of every other leg plus the handler's
 * audio (to everyone, or to it), pushed into that leg's own output, whose playout engine encodes it
 * for the leg's edge (Opus 48 kHz for a browser, mu-law 8 kHz or L16 for a phone); the handler
 * hears everyone mixed (`onMixed`).
 *
 * Constraints it encodes:
 * - Live audio does not queue: a leg's output holding more than its `liveBoundMs` skips the
 *   tick's mix (counted) instead of adding to a backlog, so latency cannot creep up behind a stall
 *   or behind a reply that was already queued on the leg when the conference began (that reply
 *   plays out first, then the mix resumes).
 * - Silence is not sent: a listener's mix with no sample above SILENCE_PEAK (a browser sends
 *   packets of near-silence all the time, so the mix is rarely empty) is skipped, as DTX would.
 *   Each pause then drains whatever a hiccup left queued at the leg's far end: sent on, a steady
 *   stream at one frame per tick never drains it, and a phone's far end holds up to its 200 ms
 *   lead. Measured web -> phone mouth-to-ear through the conference: 132 ms p50 when silence was
 *   sent (`npm run bench -- --only legs`).
 * - The mix runs first in each tick of the shared clock (FrameClock.addFirst): the legs' engines,
 *   which joined the clock earlier, then send the tick's mix in the same tick instead of the next.
 *   Measured: web -> phone 89 -> 73 ms p50, phone -> web 77 -> 47 ms.
 * - The handler's audio is paced by its own playout engines (one to everyone, one per addressed
 *   leg, made on first use) writing into the mixer one frame per tick: barge-in clears the engine
 *   and the mixer's bus, and the engines' segment results are the handler's `playedMs`.
 * - Frames handed out are copies: the mixer reuses its buffers every tick.
 */
import { FrameClock } from '../audio/frame-clock.ts';
import { audioFrame, type AudioFrame } from '../audio/frame.ts';
import { peak } from '../audio/pcm.ts';
import { PlayoutEngine } from '../audio/playout/engine.ts';
import type { PlayoutOutput } from '../audio/playout/types.ts';
import type { MediaTransport } from '../transport/types.ts';
import type { LegInputOptions } from './leg-input.ts';
import { ConferenceMixer, type MixResult } from './mixer.ts';

/** Peak below which a mix frame is silence (-60 dBFS: Opus-coded digital silence and mu-law's zero decode far below it). */
export const SILENCE_PEAK = 32;


export interface ConferenceOptions {
  /** The rate every leg is mixed at. */
  sampleRate: number;
  /** Default FrameClock.shared(20). */
  clock?: FrameClock;
}

export interface ConferenceLegOptions {
  /** Most audio the leg's output may hold before a tick's mix is skipped for it. Default 100. */
  liveBoundMs?: number;
  /** The leg's jitter buffer (default: the mixer's, a 40 ms target). */
  jitter?: LegInputOptions;
}

interface Leg {
  readonly id: string;
  transport: MediaTransport;
  offAudio: void | (() => void);
  readonly liveBoundMs: number;
  skipped: number;
}

export interface ConferenceStats {
  ticks: number;
  /** Ticks whose mix a leg skipped, its output holding more than its bound. */
  skipped: Record<string, number>;
  /** Mean and worst time of one tick's mix and fan-out, µs. */
  tickMeanUs: number;
  tickMaxUs: number;
}

export class Conference {
  readonly sampleRate: number;
  readonly #clock: FrameClock;
  readonly #mixer: ConferenceMixer;
  readonly #legs = new Map<string, Leg>();
  readonly #mixedListeners = new Set<(frame: AudioFrame) => void>();
  readonly #taps = new Set<(result: MixResult) => void>();
  readonly #toAll: PlayoutEngine;
  readonly #toLeg = new Map<string, PlayoutEngine>();
  #closed = false;
  #tickUsTotal = 0;
  #tickUsMax = 0;

  static async create(options: ConferenceOptions): Promise<Conference> {
    const mixer = await ConferenceMixer.create({ sampleRate: options.sampleRate });
    return new Conference(mixer, options.clock ?? FrameClock.shared(mixer.frameMs));
  }

  private constructor(mixer: ConferenceMixer, clock: FrameClock) {
    this.#mixer = mixer;
    this.#clock = clock;
    this.sampleRate = mixer.sampleRate;
    this.#toAll = this.#handlerEngine(undefined);
    // First in each tick: the legs' engines send this tick's mix in the same tick.
    this.#clock.addFirst(this.#tick);
  }

  /** The handler's output to every leg (a PlayoutOutput like a transport's). */
  get handlerOutput(): PlayoutOutput {
    return this.#toAll;
  }

  /** The handler's output to one leg only (made on first use; dropped with the leg). */
  handlerOutputTo(legId: string): PlayoutOutput {
    if (!this.#legs.has(legId)) throw new Error(`no leg ${legId} in the conference`);
    let engine = this.#toLeg.get(legId);
    if (!engine) this.#toLeg.set(legId, (engine = this.#handlerEngine(legId)));
    return engine;
  }

  get legIds(): string[] {
    return [...this.#legs.keys()];
  }

  has(legId: string): boolean {
    return this.#legs.has(legId);
  }

  /** Joins a leg: its audio goes into the mix from now on, and it hears the mix on its output. */
  addLeg(legId: string, transport: MediaTransport, options: ConferenceLegOptions = {}): void {
    if (this.#closed) throw new Error('the conference is closed');
    this.#mixer.addLeg(legId, options.jitter);
    const leg: Leg = { id: legId, transport, offAudio: undefined, liveBoundMs: options.liveBoundMs ?? 100, skipped: 0 };
    leg.offAudio = transport.onAudio((f) => this.#mixer.leg(legId)?.push(f));
    this.#legs.set(legId, leg);
  }

  /** The leg's transport was replaced (a WebRTC call resumed on a new connection): same leg, new ends. */
  replaceTransport(legId: string, transport: MediaTransport): void {
    const leg = this.#legs.get(legId);
    if (!leg) throw new Error(`no leg ${legId} in the conference`);
    leg.offAudio?.();
    this.#mixer.leg(legId)?.clear();
    leg.transport = transport;
    leg.offAudio = transport.onAudio((f) => this.#mixer.leg(legId)?.push(f));
  }

  removeLeg(legId: string): void {
    const leg = this.#legs.get(legId);
    if (!leg) return;
    leg.offAudio?.();
    this.#legs.delete(legId);
    this.#toLeg.get(legId)?.destroy();
    this.#toLeg.delete(legId);
    this.#mixer.removeLeg(legId);
  }

  /**
   * Each tick's whole result (every leg's own frame, the mix of all with the handler), for a
   * recorder: called within the tick, its frames valid only until the callback returns.
   */
  onTick(cb: (result: MixResult) => void): () => void {
    this.#taps.add(cb);
    return () => this.#taps.delete(cb);
  }

  /** Every leg mixed (the handler's input), one frame per tick. Returns the unsubscribe. */
  onMixed(cb: (frame: AudioFrame) => void): () => void {
    this.#mixedListeners.add(cb);
    return () => this.#mixedListeners.delete(cb);
  }

  stats(): ConferenceStats {
    const ticks = this.#mixer.stats().ticks;
    const skipped: Record<string, number> = {};
    for (const leg of this.#legs.values()) skipped[leg.id] = leg.skipped;
    return { ticks, skipped, tickMeanUs: ticks ? this.#tickUsTotal / ticks : 0, tickMaxUs: this.#tickUsMax };
  }

  /** Leaves the clock, drops the handler's queued audio and every leg (their transports stay open: their owners close them). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clock.delete(this.#tick);
    for (const id of [...this.#legs.keys()]) this.removeLeg(id);
    this.#toAll.destroy();
    this.#mixer.close();
    this.#mixedListeners.clear();
    this.#taps.clear();
  }

  #handlerEngine(to: string | undefined): PlayoutEngine {
    const mixer = this.#mixer;
    const engine = new PlayoutEngine({
      clock: this.#clock,
      frameMs: mixer.frameMs,
      sink: {
        sampleRate: mixer.sampleRate,
        leadMs: 0,
        acknowledges: false,
        send: (frame) => {
          if (to === undefined) mixer.pushHandler(frame);
          else if (this.#legs.has(to)) mixer.pushHandler(frame, to);
        },
        clear: () => mixer.clearHandler(to),
      },
    });
    engine.start();
    return engine;
  }

  readonly #tick = (): void => {
    const t0 = performance.now();
    const r = this.#mixer.mix();
    for (const l of r.listeners) {
      if (!l.active || peak(l.frame.samples) <= SILENCE_PEAK) continue;
      const leg = this.#legs.get(l.legId);
      if (!leg) continue;
      const out = leg.transport.output;
      if (out.queuedMs() > leg.liveBoundMs) {
        leg.skipped++;
        continue;
      }
      out.push(audioFrame(l.frame.samples.slice(), l.frame.sampleRate, 1));
    }
    if (this.#mixedListeners.size > 0) {
      const everyone = audioFrame(r.everyone.samples.slice(), r.everyone.sampleRate, 1);
      for (const cb of this.#mixedListeners) cb(everyone);
    }
    for (const tap of this.#taps) tap(r);
    const us = (performance.now() - t0) * 1000;
    this.#tickUsTotal += us;
    if (us > this.#tickUsMax) this.#tickUsMax = us;
  };
}
