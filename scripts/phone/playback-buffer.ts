import { decodeMulaw } from './mulaw.ts';

/**
 * A provider's outbound playback buffer for one bidirectional media stream, as Twilio documents
 * it (Telnyx's marks and Plivo's checkpoints queue the same way):
 *
 * - `media` from the server is appended and played out in real time (mono, at the stream's rate,
 *   8 kHz unless given);
 * - a `mark` is queued behind the audio sent before it and echoed when playback reaches it, or
 *   at once when nothing is buffered;
 * - `clear` empties the buffer and echoes every outstanding mark at once.
 *
 * Time is driven from outside: each `tick()` plays one 20 ms slot (160 samples at 8 kHz).
 */
export const SAMPLE_RATE = 8000;
export const TICK_MS = 20;
export const TICK_SAMPLES = (SAMPLE_RATE * TICK_MS) / 1000;

type Entry = { pcm: Int16Array; offset: number } | { mark: string };

export interface TickResult {
  /** The 20 ms played in this slot: buffered audio, then silence if the buffer ran out. */
  pcm: Int16Array;
  /** How many of the slot's samples came from the buffer (the rest is silence). */
  playedSamples: number;
  /** Marks whose preceding audio has now been played completely, in the order they were sent. */
  marks: string[];
}

export class PlaybackBuffer {
  readonly sampleRate: number;
  readonly tickSamples: number;
  #queue: Entry[] = [];
  #samples = 0;

  constructor(sampleRate = SAMPLE_RATE) {
    this.sampleRate = sampleRate;
    this.tickSamples = (sampleRate * TICK_MS) / 1000;
  }

  /** Unplayed audio, in samples at the buffer's rate. */
  get bufferedSamples(): number {
    return this.#samples;
  }

  get bufferedMs(): number {
    return (this.#samples / this.sampleRate) * 1000;
  }

  /** Marks waiting behind unplayed audio. */
  get pendingMarks(): string[] {
    return this.#queue.flatMap((e) => ('mark' in e ? [e.mark] : []));
  }

  appendPcm(pcm: Int16Array): void {
    if (pcm.length === 0) return;
    this.#queue.push({ pcm, offset: 0 });
    this.#samples += pcm.length;
  }

  /** Appends a media payload's mu-law bytes. */
  appendMulaw(bytes: Uint8Array): void {
    this.appendPcm(decodeMulaw(bytes));
  }

  /**
   * Queues a mark behind the audio sent so far. Returns true when nothing is buffered: then
   * playback has already reached it and the caller echoes it at once (it is not queued).
   */
  mark(name: string): boolean {
    if (this.#samples === 0) return true;
    this.#queue.push({ mark: name });
    return false;
  }

  /** Plays the next 20 ms slot. */
  tick(): TickResult {
    const slot = this.tickSamples;
    const pcm = new Int16Array(slot);
    const marks: string[] = [];
    let filled = 0;
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!;
      if ('mark' in head) {
        // Everything before this mark has been played.
        marks.push(head.mark);
        this.#queue.shift();
        continue;
      }
      if (filled === slot) break; // slot full; marks right behind it were taken above
      const n = Math.min(slot - filled, head.pcm.length - head.offset);
      pcm.set(head.pcm.subarray(head.offset, head.offset + n), filled);
      filled += n;
      head.offset += n;
      this.#samples -= n;
      if (head.offset === head.pcm.length) this.#queue.shift();
    }
    return { pcm, playedSamples: filled, marks };
  }

  /** Drops all unplayed audio; returns the outstanding marks, in order, to be echoed at once. */
  clear(): string[] {
    const marks = this.pendingMarks;
    this.#queue = [];
    this.#samples = 0;
    return marks;
  }
}
