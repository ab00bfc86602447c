/**
 * The conference mix, one frame per tick at the session rate: what each leg hears (every other
 * leg, plus handler audio addressed to everyone or to it), and the handler's view (each leg's
 * frame by id, and all legs mixed). The mixer keeps no timer: whoever drives it calls mix() once
 * per tick of the shared frame clock (audio/frame-clock.ts).
 *
 * Constraints it encodes:
 * - No self-echo: a leg never hears its own audio. Each tick sums every leg (plus the handler's
 *   audio to everyone) once, in int32, and each listener's mix is that sum minus its own frame
 *   plus the handler's audio to it: O(legs) passes over the frame per tick, not O(legs^2), and
 *   exact, since nothing is clamped before the subtraction.
 * - Saturating: each mix is clamped to int16 once, at the end (a typed-array store would wrap).
 * - A leg that has sent nothing yet, or is priming or starved, contributes silence; legs join and
 *   leave between any two ticks (a leaving leg's buffered audio is dropped with it).
 * - Allocation-free per tick: every buffer and result object is made when a leg joins. The frames
 *   mix() returns are views of those buffers, valid until the next mix(): a consumer that keeps
 *   one copies it (PlayoutOutput.push does: its reframer copies every frame it queues).
 * - Handler audio is read like a leg's, one frame per tick, so it must arrive paced in real time
 *   (a PlayoutEngine whose sink writes here sends one frame per tick); faster overruns (counted).
 * - Mono at the session rate throughout; legs' and the handler's audio are converted on push.
 */
import { audioFrame, type AudioFrame } from '../audio/frame.ts';
import { initResampler } from '../audio/resampler.ts';
import type { JitterStats } from './jitter-buffer.ts';
import { LegInput, type LegInputOptions } from './leg-input.ts';

export interface ConferenceMixerOptions {
  /** The session rate: every mix is mono at this rate. */
  sampleRate: number;
  /** Tick period. Default 20 (the frame clock's). */
  frameMs?: number;
  /** Most legs at once. Default 16 (a tick costs ~O(legs); see mixer.bench.test.ts). */
  maxLegs?: number;
  /** Jitter buffer of a leg, unless addLeg() says otherwise. */
  legDefaults?: LegInputOptions;
}

/** A leg's own audio this tick (the handler's view). */
export interface LegFrame {
  readonly legId: string;
  readonly frame: AudioFrame;
  /** The frame holds audio from the leg; false: silence (not started, priming, or starved). */
  readonly live: boolean;
}

/** What a leg hears this tick. */
export interface ListenerMix {
  readonly legId: string;
  readonly frame: AudioFrame;
  /** Anything was mixed in (another leg's audio or handler audio); false: the frame is silence. */
  readonly active: boolean;
}

export interface MixResult {
  /** mix() calls so far, this one included. */
  readonly tick: number;
  /** One per leg, in join order. */
  readonly listeners: readonly ListenerMix[];
  /** One per leg, in join order. */
  readonly legs: readonly LegFrame[];
  /** Every leg mixed, without handler audio: what a bot that listens to everyone hears. */
  readonly everyone: AudioFrame;
  readonly everyoneActive: boolean;
  /** Every leg and the handler's audio to everyone: the whole conversation, as a recording of the mix hears it. */
  readonly all: AudioFrame;
}

export interface ConferenceStats {
  ticks: number;
  legs: Record<string, JitterStats>;
  /** Handler audio to everyone. */
  handler: JitterStats;
}

/**
 * Handler audio is local and paced (no network jitter): read as soon as a frame is there, never
 * trimmed (a reply's audio is not dropped to save latency), bounded like a leg's.
 */
const HANDLER_BUS: LegInputOptions = { targetMs: 0, maxMs: 200, trimWindowMs: 0, maxTargetMs: 0 };

/** A leg's buffers and its (reused) result objects. */
class Slot {
  readonly input: LegInput;
  readonly own: Int16Array;
  readonly heard: Int16Array;
  readonly legFrame: { legId: string; frame: AudioFrame; live: boolean };
  readonly listener: { legId: string; frame: AudioFrame; active: boolean };
  /** Handler audio to this leg only, made on first use. */
  handler: LegInput | null = null;
  handlerBuf: Int16Array | null = null;

  constructor(input: LegInput) {
    const n = input.frameSamples;
    this.input = input;
    this.own = new Int16Array(n);
    this.heard = new Int16Array(n);
    this.legFrame = { legId: input.id, frame: audioFrame(this.own, input.sampleRate, 1), live: false };
    this.listener = { legId: input.id, frame: audioFrame(this.heard, input.sampleRate, 1), active: false };
  }
}

export class ConferenceMixer {
  readonly sampleRate: number;
  readonly frameMs: number;
  readonly maxLegs: number;
  readonly frameSamples: number;
  readonly #legDefaults: LegInputOptions;
  readonly #slots = new Map<string, Slot>();
  /** The slots in join order, for indexed loops (a Map iterator per tick is an allocation). */
  #slotList: Slot[] = [];
  readonly #handlerAll: LegInput;
  readonly #handlerAllBuf: Int16Array;
  readonly #sum: Int32Array;
  readonly #everyone: Int16Array;
  readonly #all: Int16Array;
  readonly #result: { tick: number; listeners: ListenerMix[]; legs: LegFrame[]; everyone: AudioFrame; everyoneActive: boolean; all: AudioFrame };
  #closed = false;

  /** Loads the resampler wasm first, so legs at any rate can push synchronously. */
  static async create(options: ConferenceMixerOptions): Promise<ConferenceMixer> {
    await initResampler();
    return new ConferenceMixer(options);
  }

  constructor(options: ConferenceMixerOptions) {
    this.sampleRate = options.sampleRate;
    this.frameMs = options.frameMs ?? 20;
    this.maxLegs = options.maxLegs ?? 16;
    if (!Number.isInteger(this.maxLegs) || this.maxLegs < 1) throw new RangeError(`maxLegs must be a positive integer, not ${this.maxLegs}`);
    this.#legDefaults = options.legDefaults ?? {};
    this.#handlerAll = new LegInput('handler', this.sampleRate, this.frameMs, HANDLER_BUS); // validates rate and frame
    this.frameSamples = this.#handlerAll.frameSamples;
    this.#handlerAllBuf = new Int16Array(this.frameSamples);
    this.#sum = new Int32Array(this.frameSamples);
    this.#everyone = new Int16Array(this.frameSamples);
    this.#all = new Int16Array(this.frameSamples);
    this.#result = {
      tick: 0,
      listeners: [],
      legs: [],
      everyone: audioFrame(this.#everyone, this.sampleRate, 1),
      everyoneActive: false,
      all: audioFrame(this.#all, this.sampleRate, 1),
    };
  }

  get legCount(): number {
    return this.#slots.size;
  }

  /** Adds a leg from the next mix() on; returns its input (the leg's transport pushes its audio there). */
  addLeg(legId: string, options?: LegInputOptions): LegInput {
    this.#open();
    if (typeof legId !== 'string' || legId === '') throw new TypeError('a leg id is a non-empty string');
    if (this.#slots.has(legId)) throw new Error(`leg ${legId} is already in the mix`);
    if (this.#slots.size >= this.maxLegs) throw new RangeError(`the mix is full (${this.maxLegs} legs)`);
    const input = new LegInput(legId, this.sampleRate, this.frameMs, { ...this.#legDefaults, ...options });
    this.#slots.set(legId, new Slot(input));
    this.#rebuild();
    return input;
  }

  /** Removes a leg (its buffered audio and any handler audio queued for it are dropped). False if it was not there. */
  removeLeg(legId: string): boolean {
    const slot = this.#slots.get(legId);
    if (!slot) return false;
    slot.input.close();
    slot.handler?.close();
    this.#slots.delete(legId);
    this.#rebuild();
    return true;
  }

  leg(legId: string): LegInput | undefined {
    return this.#slots.get(legId)?.input;
  }

  /** Audio from leg `legId` (a shortcut for leg(legId).push). */
  push(legId: string, frame: AudioFrame): void {
    const slot = this.#slots.get(legId);
    if (!slot) throw new Error(`no leg ${legId} in the mix`);
    slot.input.push(frame);
  }

  /** Handler audio, paced in real time (see the header): to every leg, or only to leg `to`. */
  pushHandler(frame: AudioFrame, to?: string): void {
    this.#open();
    if (to === undefined) {
      this.#handlerAll.push(frame);
      return;
    }
    const slot = this.#slots.get(to);
    if (!slot) throw new Error(`no leg ${to} in the mix`);
    if (!slot.handler) {
      slot.handler = new LegInput(`handler->${to}`, this.sampleRate, this.frameMs, HANDLER_BUS);
      slot.handlerBuf = new Int16Array(this.frameSamples);
    }
    slot.handler.push(frame);
  }

  /** Drops handler audio not yet mixed (barge-in): to everyone, or to leg `to`. */
  clearHandler(to?: string): void {
    if (to === undefined) this.#handlerAll.clear();
    else this.#slots.get(to)?.handler?.clear();
  }

  /** One tick: reads a frame from every leg and the handler, and mixes. The result's frames are reused by the next call. */
  mix(): MixResult {
    this.#open();
    const n = this.frameSamples;
    const sum = this.#sum;
    sum.fill(0);
    const slots = this.#slotList;
    let live = 0;
    for (let s = 0; s < slots.length; s++) {
      const slot = slots[s]!;
      const own = slot.own;
      const isLive = slot.input.read(own); // silence-filled when not live
      slot.legFrame.live = isLive;
      if (!isLive) continue;
      live++;
      for (let i = 0; i < n; i++) sum[i]! += own[i]!;
    }
    const everyone = this.#everyone;
    for (let i = 0; i < n; i++) everyone[i] = clamp16(sum[i]!);
    const hAll = this.#handlerAllBuf;
    const hAllLive = this.#handlerAll.read(hAll);
    if (hAllLive) for (let i = 0; i < n; i++) sum[i]! += hAll[i]!;
    const all = this.#all;
    if (hAllLive) for (let i = 0; i < n; i++) all[i] = clamp16(sum[i]!);
    else all.set(everyone);

    for (let s = 0; s < slots.length; s++) {
      const slot = slots[s]!;
      const heard = slot.heard;
      const own = slot.own;
      const hb = slot.handlerBuf;
      const hLive = slot.handler !== null && hb !== null && slot.handler.read(hb);
      const active = live - (slot.legFrame.live ? 1 : 0) > 0 || hAllLive || hLive;
      slot.listener.active = active;
      if (!active) heard.fill(0);
      else if (hLive) for (let i = 0; i < n; i++) heard[i] = clamp16(sum[i]! - own[i]! + hb[i]!);
      else for (let i = 0; i < n; i++) heard[i] = clamp16(sum[i]! - own[i]!);
    }
    const r = this.#result;
    r.tick++;
    r.everyoneActive = live > 0;
    return r;
  }

  stats(): ConferenceStats {
    const legs: Record<string, JitterStats> = {};
    for (const [id, slot] of this.#slots) legs[id] = slot.input.stats();
    return { ticks: this.#result.tick, legs, handler: this.#handlerAll.stats() };
  }

  /** Removes every leg and frees their resamplers. mix() and push throw afterwards; safe to call twice. */
  close(): void {
    if (this.#closed) return;
    for (const id of [...this.#slots.keys()]) this.removeLeg(id);
    this.#handlerAll.close();
    this.#closed = true;
  }

  #open(): void {
    if (this.#closed) throw new Error('the conference mixer is closed');
  }

  /** New result arrays on join/leave (never per tick). */
  #rebuild(): void {
    const slots = [...this.#slots.values()];
    this.#slotList = slots;
    this.#result.listeners = slots.map((s) => s.listener);
    this.#result.legs = slots.map((s) => s.legFrame);
  }
}

function clamp16(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}
