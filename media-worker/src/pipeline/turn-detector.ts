/**
 * Turn detection over VAD frames: pure and synchronous, decided frame by frame.
 *
 * - Idle: a frame with prob >= speechThreshold starts speech (`speech.start`).
 * - Speaking: frames below negThreshold are silence; their durations add up, and a frame at or
 *   above speechThreshold resets the sum. When the sum first reaches silenceMs the turn ends at the
 *   end of that frame (`speech.end`, reason 'silence'), so with contiguous 32 ms frames the decision
 *   lands in [silence start + silenceMs, + 32 ms). Speech shorter than minSpeechMs ends as
 *   `speech.discarded` instead. Continuous speech (no silence run in progress) reaching maxSpeechMs
 *   ends the turn with reason 'max_speech'; the next speech frame starts a new turn.
 * - Hysteresis: frames in [negThreshold, speechThreshold) neither start speech nor count as silence
 *   (nor reset the silence sum).
 *
 * - Where speech really ended (optional energy input, `pushEnergy`): Silero's probability stays
 *   high for a window or two after the voice stops (its recurrent state decays), so the first
 *   window below negThreshold typically starts 30-60 ms after the last voiced sample, and that lag
 *   would add to every reply. When a silence run starts, the detector looks back over short energy
 *   blocks (at most ENERGY_LOOKBACK_MS) for the end of the last block at or above the energy floor
 *   (ENERGY_FLOOR_REL of the turn's loudest block, at least ENERGY_FLOOR_ABS) and counts the
 *   quiet audio from there as silence too. Noise above the floor means no block is quiet: the
 *   VAD's own start is kept. Once a silence run is under way, quiet blocks that arrive after the
 *   last VAD window also count, so the end can be decided between two windows (at block
 *   granularity) instead of at the next window's end; a block above the floor leaves the decision
 *   to the VAD.
 *
 * Every `atMs` is the time the decision was made: the end of the frame (or block) that triggered it.
 */
import { enterStage, exitStage, Stage } from '../telemetry/stage-cpu.ts';
import type { VadFrame } from '../vad/streaming-vad.ts';

export interface TurnDetectorOptions {
  /** Probability at or above which a frame is speech. */
  speechThreshold: number;
  /** Silence (sum of frames below negThreshold) that ends a turn. */
  silenceMs: number;
  /** Turns with less speech than this are discarded. */
  minSpeechMs: number;
  /** A turn is cut when it reaches this long. */
  maxSpeechMs: number;
  /** Probability below which a frame is silence while speaking; default max(speechThreshold - 0.15, 0.01), like Silero. */
  negThreshold?: number;
}

/** The level of a short stretch of caller audio (rms of int16 samples), on the VAD's time base. */
export interface EnergyBlock {
  readonly startMs: number;
  readonly endMs: number;
  readonly rms: number;
}

/** How far back before the VAD's silence start the energy may move it. */
export const ENERGY_LOOKBACK_MS = 96;
/** Energy floor relative to the turn's loudest block (-30 dB) ... */
export const ENERGY_FLOOR_REL = 0.0316;
/** ... and never below this (about -50 dBFS). */
export const ENERGY_FLOOR_ABS = 100;
/** Blocks remembered for the look-back (10 ms blocks: well over ENERGY_LOOKBACK_MS + one window). */
const ENERGY_HISTORY = 32;

export type TurnEvent =
  | { type: 'speech.start'; atMs: number }
  | { type: 'speech.end'; atMs: number; startMs: number; speechMs: number; reason: 'silence' | 'max_speech' }
  | { type: 'speech.discarded'; atMs: number; speechMs: number };

export class TurnDetector {
  private readonly speechThreshold: number;
  private readonly negThreshold: number;
  private readonly silenceMs: number;
  private readonly minSpeechMs: number;
  private readonly maxSpeechMs: number;

  private speakingSince: number | undefined;
  /** Start of the current silence run (first frame below negThreshold since the last speech frame). */
  private silenceStartMs: number | undefined;
  private silenceSumMs = 0;
  /** End of the last VAD window seen. */
  private analysedToMs = 0;
  /** Recent energy blocks (ring, oldest first once full) and the loudest since the speech started. */
  private readonly blocks: EnergyBlock[] = [];
  private peakRms = 0;

  constructor(opts: TurnDetectorOptions) {
    const { speechThreshold, silenceMs, minSpeechMs, maxSpeechMs } = opts;
    const negThreshold = opts.negThreshold ?? Math.max(speechThreshold - 0.15, 0.01);
    if (!(speechThreshold > 0 && speechThreshold <= 1)) throw new RangeError(`speechThreshold ${speechThreshold} not in (0, 1]`);
    if (!(negThreshold >= 0 && negThreshold <= speechThreshold)) throw new RangeError(`negThreshold ${negThreshold} not in [0, speechThreshold]`);
    if (!(silenceMs > 0)) throw new RangeError(`silenceMs ${silenceMs} must be > 0`);
    if (!(minSpeechMs >= 0)) throw new RangeError(`minSpeechMs ${minSpeechMs} must be >= 0`);
    if (!(maxSpeechMs > minSpeechMs)) throw new RangeError(`maxSpeechMs ${maxSpeechMs} must be > minSpeechMs`);
    this.speechThreshold = speechThreshold;
    this.negThreshold = negThreshold;
    this.silenceMs = silenceMs;
    this.minSpeechMs = minSpeechMs;
    this.maxSpeechMs = maxSpeechMs;
  }

  /** True between speech.start and its speech.end / speech.discarded. */
  get speaking(): boolean {
    return this.speakingSince !== undefined;
  }

  push(v: VadFrame): TurnEvent[] {
    enterStage(Stage.turns); // telemetry/stage-cpu.ts (off unless STAGE_TIMING=on)
    try {
      return this.pushWindow(v);
    } finally {
      exitStage();
    }
  }

  private pushWindow(v: VadFrame): TurnEvent[] {
    this.analysedToMs = v.endMs;
    const startMs = this.speakingSince;
    if (startMs === undefined) {
      if (v.prob < this.speechThreshold) return [];
      this.speakingSince = v.startMs;
      this.silenceStartMs = undefined;
      this.silenceSumMs = 0;
      this.peakRms = 0;
      for (const b of this.blocks) if (b.startMs >= v.startMs) this.peakRms = Math.max(this.peakRms, b.rms);
      return [{ type: 'speech.start', atMs: v.endMs }];
    }

    if (v.prob >= this.speechThreshold) {
      this.silenceStartMs = undefined;
      this.silenceSumMs = 0;
    } else if (v.prob < this.negThreshold) {
      if (this.silenceStartMs === undefined) {
        const quietFrom = this.quietSince(v.startMs, startMs);
        this.silenceStartMs = quietFrom;
        this.silenceSumMs += v.startMs - quietFrom;
      }
      this.silenceSumMs += v.endMs - v.startMs;
      if (this.silenceSumMs >= this.silenceMs) return this.endBySilence(v.endMs, startMs);
    }

    // Only while speech is continuous: during a silence run the silence rule decides.
    if (this.silenceStartMs === undefined && v.endMs - startMs >= this.maxSpeechMs) {
      this.reset();
      return [{ type: 'speech.end', atMs: v.endMs, startMs, speechMs: v.endMs - startMs, reason: 'max_speech' }];
    }
    return [];
  }

  /**
   * The level of the next stretch of caller audio (blocks in time order, pushed before the VAD
   * windows that cover them). During a silence run, quiet blocks past the last window count as
   * silence and may end the turn at once (see the header).
   */
  pushEnergy(b: EnergyBlock): TurnEvent[] {
    enterStage(Stage.turns);
    try {
      return this.pushBlock(b);
    } finally {
      exitStage();
    }
  }

  private pushBlock(b: EnergyBlock): TurnEvent[] {
    if (this.blocks.length === ENERGY_HISTORY) this.blocks.shift();
    this.blocks.push(b);
    const startMs = this.speakingSince;
    if (startMs === undefined) return [];
    this.peakRms = Math.max(this.peakRms, b.rms);
    if (this.silenceStartMs === undefined || b.endMs <= this.analysedToMs) return [];
    // Every block after the last window must be quiet for the tail to count.
    let tailFrom = b.endMs;
    for (let i = this.blocks.length - 1; i >= 0; i--) {
      const x = this.blocks[i]!;
      if (x.endMs <= this.analysedToMs) break;
      if (x.rms >= this.floor()) return [];
      tailFrom = x.startMs;
    }
    if (tailFrom > this.analysedToMs + 0.5) return []; // a block is missing: the tail is not known
    if (this.silenceSumMs + (b.endMs - this.analysedToMs) < this.silenceMs) return [];
    return this.endBySilence(b.endMs, startMs);
  }

  /** Back to idle, dropping any turn in progress (no event). */
  reset(): void {
    this.speakingSince = undefined;
    this.silenceStartMs = undefined;
    this.silenceSumMs = 0;
    this.peakRms = 0;
  }

  private endBySilence(atMs: number, startMs: number): TurnEvent[] {
    const speechMs = (this.silenceStartMs ?? atMs) - startMs;
    this.reset();
    return speechMs < this.minSpeechMs
      ? [{ type: 'speech.discarded', atMs, speechMs }]
      : [{ type: 'speech.end', atMs, startMs, speechMs, reason: 'silence' }];
  }

  private floor(): number {
    return Math.max(ENERGY_FLOOR_ABS, this.peakRms * ENERGY_FLOOR_REL);
  }

  /**
   * Where the quiet before `vadSilenceMs` began: the end of the last block at or above the floor
   * within the look-back (never before the speech start), or `vadSilenceMs` itself when there is
   * no energy input or the audio just before it is not quiet.
   */
  private quietSince(vadSilenceMs: number, speechStartMs: number): number {
    const limit = Math.max(vadSilenceMs - ENERGY_LOOKBACK_MS, speechStartMs);
    let quietFrom = vadSilenceMs;
    let expectEnd: number | undefined;
    for (let i = this.blocks.length - 1; i >= 0; i--) {
      const b = this.blocks[i]!;
      if (b.startMs >= vadSilenceMs) continue;
      // The first block may straddle the window start; then contiguous blocks only (a gap is unknown audio).
      if (expectEnd === undefined ? b.endMs < vadSilenceMs - 0.5 : Math.abs(b.endMs - expectEnd) > 0.5) break;
      if (b.rms >= this.floor()) break;
      if (b.startMs < limit) {
        quietFrom = limit;
        break;
      }
      quietFrom = b.startMs;
      expectEnd = b.startMs;
    }
    return quietFrom;
  }
}
