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
 * Every `atMs` is the time the decision was made: the end of the frame that triggered it.
 */
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
    const startMs = this.speakingSince;
    if (startMs === undefined) {
      if (v.prob < this.speechThreshold) return [];
      this.speakingSince = v.startMs;
      this.silenceStartMs = undefined;
      this.silenceSumMs = 0;
      return [{ type: 'speech.start', atMs: v.endMs }];
    }

    if (v.prob >= this.speechThreshold) {
      this.silenceStartMs = undefined;
      this.silenceSumMs = 0;
    } else if (v.prob < this.negThreshold) {
      this.silenceStartMs ??= v.startMs;
      this.silenceSumMs += v.endMs - v.startMs;
      if (this.silenceSumMs >= this.silenceMs) {
        const speechMs = this.silenceStartMs - startMs;
        this.reset();
        return speechMs < this.minSpeechMs
          ? [{ type: 'speech.discarded', atMs: v.endMs, speechMs }]
          : [{ type: 'speech.end', atMs: v.endMs, startMs, speechMs, reason: 'silence' }];
      }
    }

    // Only while speech is continuous: during a silence run the silence rule decides.
    if (this.silenceStartMs === undefined && v.endMs - startMs >= this.maxSpeechMs) {
      this.reset();
      return [{ type: 'speech.end', atMs: v.endMs, startMs, speechMs: v.endMs - startMs, reason: 'max_speech' }];
    }
    return [];
  }

  /** Back to idle, dropping any turn in progress (no event). */
  reset(): void {
    this.speakingSince = undefined;
    this.silenceStartMs = undefined;
    this.silenceSumMs = 0;
  }
}
