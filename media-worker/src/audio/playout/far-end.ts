/**
 * What the far end holds of the audio sent to it: a play clock (when everything sent will have
 * played there, in real time) and, for a sink that acknowledges, the frames sent and not yet
 * acknowledged, oldest first.
 *
 * Constraints it encodes:
 * - Acknowledgements come in send order: one for frame N means every frame up to N played.
 * - After a clear (or the far end's buffer was lost), acknowledgements for frames sent before it
 *   are ignored: a far end that flushes its buffer echoes every outstanding mark at once (Twilio
 *   does, on `clear`), and those echoes are not playback.
 * - A far end that never acknowledges cannot hang a reply: a frame unacknowledged `slackMs`
 *   after the play clock says it played counts as heard (one timer, armed for the oldest such
 *   frame), and queuedMs() trusts the play clock instead of the unacknowledged count once that
 *   exceeds the clock's figure by more than `slackMs`.
 */
import { Ring } from './frame-ring.ts';
import type { Segment, Segments } from './segments.ts';

interface InFlight {
  seq: number;
  segment: Segment;
  /** The play clock after it was sent: when it should have played. */
  playEnd: number;
}

export interface FarEndOptions {
  acknowledges: boolean;
  frameMs: number;
  slackMs: number;
  now: () => number;
  segments: Segments;
  /** Frames were counted as heard by the slack timer (the engine re-checks its waiters). */
  onAssumedHeard: () => void;
}

export class FarEnd {
  /** When everything sent so far will have played at the far end, on the clock's time scale. */
  playClock = 0;
  /** Frames counted as heard: acknowledged, assumed by the slack timer, or sent (sinks that do not acknowledge). */
  heardFrames = 0;
  /** acknowledge() calls that counted (not ignored as echoes, unknown, or already counted). */
  acks = 0;
  readonly #o: FarEndOptions;
  readonly #inFlight = new Ring<InFlight>(64, true);
  /** The last frame sequence number handed out. */
  #seq = 0;
  /** Acknowledgements up to this sequence number are ignored (flush echoes). */
  #ignoreThrough = 0;
  #sentSinceClear = false;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(o: FarEndOptions) {
    this.#o = o;
  }

  /** Records a frame of `segment` sent at `now`; returns its sequence number. */
  sent(segment: Segment, now: number): number {
    const seq = ++this.#seq;
    this.playClock = Math.max(this.playClock, now) + this.#o.frameMs;
    this.#sentSinceClear = true;
    if (!this.#o.acknowledges) {
      this.heardFrames++;
      this.#o.segments.heard(segment);
    } else {
      this.#inFlight.push({ seq, segment, playEnd: this.playClock });
      this.armSlackTimer();
    }
    return seq;
  }

  /** The far end played every frame up to `seq`. True if that counted anything as heard. */
  acknowledge(seq: number): boolean {
    if (!(seq > this.#ignoreThrough)) return false; // also NaN
    const heard = this.#hearThrough((f) => f.seq <= seq);
    if (heard > 0) this.acks++;
    return heard > 0;
  }

  /** Ms held by the far end, not yet heard (see the header for the play clock fallback). */
  queuedMs(now: number): number {
    const unacked = this.#inFlight.size * this.#o.frameMs;
    if (unacked === 0) return 0;
    const byClock = Math.max(0, this.playClock - now);
    return unacked > byClock + this.#o.slackMs ? byClock : unacked;
  }

  /**
   * The far end's buffer is dropped: its frames are neither queued nor heard, the play clock
   * restarts at `now`, and acknowledgements for them are ignored from now on. Returns whether
   * anything was sent since the last time (whether the far end must be told to clear).
   */
  drop(now: number): boolean {
    const had = this.#sentSinceClear;
    this.#ignoreThrough = this.#seq;
    this.#sentSinceClear = false;
    this.#inFlight.drain((f) => this.#o.segments.gone(f.segment));
    this.playClock = now;
    this.stopSlackTimer();
    return had;
  }

  /** Arms the slack timer for the oldest unacknowledged frame, unless armed or none is waiting. */
  armSlackTimer(): void {
    const oldest = this.#inFlight.peek();
    if (this.#timer !== null || !oldest) return;
    const delay = oldest.playEnd + this.#o.slackMs - this.#o.now();
    this.#timer = setTimeout(this.#onSlack, delay > 0 ? delay : 0);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  stopSlackTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  // Bound once: re-arming creates no closure.
  readonly #onSlack = (): void => {
    this.#timer = null;
    const now = this.#o.now();
    const heard = this.#hearThrough((f) => f.playEnd + this.#o.slackMs <= now + 0.5);
    this.armSlackTimer();
    if (heard > 0) this.#o.onAssumedHeard();
  };

  /** Counts as heard, oldest first, every unacknowledged frame while `played` holds. */
  #hearThrough(played: (f: InFlight) => boolean): number {
    let n = 0;
    for (let f = this.#inFlight.peek(); f && played(f); f = this.#inFlight.peek()) {
      this.#inFlight.shift();
      n++;
      this.heardFrames++;
      this.#o.segments.heard(f.segment);
    }
    return n;
  }
}
