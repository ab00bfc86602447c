/**
 * Voice activity per leg in a conference: each leg's own frames (Conference.onTick) through a VAD
 * stream of its own (Silero, the pipeline's factory), with hysteresis, so the session knows who
 * is speaking: `leg.speech.start` / `leg.speech.end` events for the client and `speaking()` for
 * the handler (`ctx.legs.speaking()`). The handler's turn-taking and barge-in run on the mix of
 * everyone (one VAD for the pipeline), so any leg's speech interrupts a reply; this says whose.
 *
 * Constraints it encodes:
 * - Never blocks the tick: a leg's frames go to its VAD through a bounded queue (its VAD runs
 *   asynchronously); a VAD that falls behind drops the oldest frames (counted), a failed one is
 *   dropped with its leg's speech state (logged), and the call goes on.
 * - A leg that leaves ends its speech (an end event if it was speaking) and frees its VAD.
 * - Quiet frames (peak under QUIET_PEAK, -50 dBFS) skip the model and count as silence: a leg's
 *   VAD costs CPU only while it makes sound. Everyone talking at once, per-leg VAD took the
 *   conference from 1.7 to 3.1 % of a core per party at 5 parties (`npm run bench -- --only legs`).
 */
import type { ChannelMessage } from '@switchboard/protocol';
import type { AudioFrame } from '../audio/frame.ts';
import { peak } from '../audio/pcm.ts';
import type { VadFactory } from '../pipeline/session-pipeline.ts';
import type { VadStream } from '../pipeline/turn-runner.ts';
import type { MixResult } from './mixer.ts';

/** Probability above which a window is speech (the pipeline's default threshold). */
const SPEECH_PROB = 0.5;
/** Silence that ends a leg's speech, ms. */
const END_SILENCE_MS = 400;
/** Frames a leg's VAD may have waiting before the oldest are dropped (200 ms). */
const MAX_QUEUED = 10;
/** Peak under which a frame is silence without asking the model (-50 dBFS). */
const QUIET_PEAK = 100;


interface LegVad {
  vad: VadStream | null;
  starting: Promise<void>;
  queue: AudioFrame[];
  busy: boolean;
  speaking: boolean;
  speechStartMs: number;
  lastSpeechMs: number;
  failed: boolean;
}

export interface LegSpeechOptions {
  vad: VadFactory;
  /** To the session's client. */
  send: (event: ChannelMessage) => void;
  log: (m: string) => void;
  /** Wall clock, ms. */
  now?: () => number;
}

export class LegSpeech {
  readonly #o: LegSpeechOptions;
  readonly #legs = new Map<string, LegVad>();
  readonly #now: () => number;
  readonly #seen = new Set<string>();
  #dropped = 0;
  #closed = false;

  constructor(o: LegSpeechOptions) {
    this.#o = o;
    this.#now = o.now ?? (() => performance.timeOrigin + performance.now());
  }

  /** The legs speaking now. */
  speaking(): string[] {
    return [...this.#legs].filter(([, l]) => l.speaking).map(([id]) => id);
  }

  /** Frames dropped because a leg's VAD fell behind. */
  get dropped(): number {
    return this.#dropped;
  }

  /** One conference tick (call from Conference.onTick: frames are copied before they are kept). */
  tick(r: MixResult): void {
    if (this.#closed) return;
    // The caller alone (a recorded call's conference) is the pipeline's own VAD's.
    if (r.legs.length < 2) {
      for (const id of [...this.#legs.keys()]) this.#close(id);
      return;
    }
    const seen = this.#seen;
    seen.clear();
    for (const leg of r.legs) {
      seen.add(leg.legId);
      const state = this.#legs.get(leg.legId) ?? this.#open(leg.legId);
      if (state.failed) continue;
      if (state.queue.length === 0 && !state.busy && peak(leg.frame.samples) < QUIET_PEAK) {
        this.#window(leg.legId, state, 0);
        continue;
      }
      if (state.queue.length >= MAX_QUEUED) {
        state.queue.shift();
        this.#dropped++;
      }
      state.queue.push({ samples: leg.frame.samples.slice(), sampleRate: leg.frame.sampleRate, channels: 1 });
      void this.#drain(leg.legId, state);
    }
    for (const id of [...this.#legs.keys()]) if (!seen.has(id)) this.#close(id);
  }

  close(): void {
    this.#closed = true;
    for (const id of [...this.#legs.keys()]) this.#close(id);
  }

  #open(legId: string): LegVad {
    const state: LegVad = { vad: null, starting: Promise.resolve(), queue: [], busy: false, speaking: false, speechStartMs: 0, lastSpeechMs: 0, failed: false };
    state.starting = Promise.resolve()
      .then(() => this.#o.vad())
      .then(
        (vad) => {
          if (this.#legs.get(legId) === state) state.vad = vad;
          else vad.close?.();
        },
        (err: unknown) => this.#fail(legId, state, err),
      );
    this.#legs.set(legId, state);
    return state;
  }

  async #drain(legId: string, state: LegVad): Promise<void> {
    if (state.busy) return;
    state.busy = true;
    try {
      await state.starting;
      while (state.vad && state.queue.length > 0 && this.#legs.get(legId) === state) {
        const frame = state.queue.shift()!;
        const windows = await state.vad.push(frame);
        for (const w of windows) this.#window(legId, state, w.prob);
      }
    } catch (err) {
      this.#fail(legId, state, err);
    } finally {
      state.busy = false;
    }
  }

  #window(legId: string, state: LegVad, prob: number): void {
    const now = this.#now();
    if (prob >= SPEECH_PROB) {
      state.lastSpeechMs = now;
      if (!state.speaking) {
        state.speaking = true;
        state.speechStartMs = now;
        this.#o.send({ type: 'leg.speech.start', legId, at: now });
      }
    } else if (state.speaking && now - state.lastSpeechMs >= END_SILENCE_MS) {
      this.#end(legId, state, now);
    }
  }

  #end(legId: string, state: LegVad, now: number): void {
    state.speaking = false;
    this.#o.send({ type: 'leg.speech.end', legId, at: now, speechMs: Math.round(state.lastSpeechMs - state.speechStartMs) });
  }

  #fail(legId: string, state: LegVad, err: unknown): void {
    if (state.failed) return;
    state.failed = true;
    state.queue.length = 0;
    this.#o.log(`leg ${legId}: its VAD failed, its speech is no longer tracked: ${err instanceof Error ? err.message : String(err)}`);
  }

  #close(legId: string): void {
    const state = this.#legs.get(legId);
    if (!state) return;
    this.#legs.delete(legId);
    if (state.speaking) this.#end(legId, state, this.#now());
    state.queue.length = 0;
    void state.starting.then(() => state.vad?.close?.());
  }
}
