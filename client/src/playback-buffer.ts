import { HeardLog } from './heard-log.ts';

/**
 * The client's reply-audio playback buffer, driven by 20 ms ticks from outside (time is passed in,
 * in ms, so tests can drive it by hand):
 *
 * - audio is appended and played in slots of 20 ms, one per tick, silence when it runs out;
 * - a mark is queued behind the audio received before it and is reached when that audio has
 *   finished playing: at the tick that ends the slot holding its last sample (never early, at most
 *   one tick late), or at once when nothing is queued or playing;
 * - `clear` drops every unplayed sample at once, including the unplayed rest of the slot now
 *   playing, and every mark not yet reached (the spec asks no echo for them).
 *
 * Marks are opaque tokens of type M, handed back when reached or dropped.
 */
type Entry<M> = { kind: 'audio'; pcm: Int16Array; offset: number } | { kind: 'mark'; mark: M };

export interface ClearResult<M> {
  droppedSamples: number;
  droppedMarks: M[];
}

export class PlaybackBuffer<M> {
  readonly sampleRate: number;
  readonly slotSamples: number;
  readonly heard: HeardLog;
  #queue: Entry<M>[] = [];
  #queued = 0;
  /** Marks passed inside the slot now playing: reached when it ends. */
  #crossed: M[] = [];
  #slotStartMs = 0;
  #slotLength = 0;

  constructor(sampleRate: number, slotMs = 20) {
    this.sampleRate = sampleRate;
    this.slotSamples = Math.round((sampleRate * slotMs) / 1000);
    this.heard = new HeardLog(sampleRate);
  }

  /** Received audio not yet playing, in samples. */
  get queuedSamples(): number {
    return this.#queued;
  }

  get queuedMs(): number {
    return (this.#queued / this.sampleRate) * 1000;
  }

  push(pcm: Int16Array): void {
    if (pcm.length === 0) return;
    this.#queue.push({ kind: 'audio', pcm, offset: 0 });
    this.#queued += pcm.length;
  }

  /** Queues a mark; true when it is reached at once (nothing before it is unplayed). */
  mark(mark: M, nowMs: number): boolean {
    if (this.#queue.length === 0 && this.#crossed.length === 0 && !this.#playing(nowMs)) return true;
    this.#queue.push({ kind: 'mark', mark });
    return false;
  }

  /** Starts the slot due at `dueMs`; returns the marks whose audio has now all been played. */
  tick(dueMs: number): M[] {
    const reached = this.#crossed;
    this.#crossed = [];
    // Marks at the head: the audio before them ended with the previous slot.
    for (let head = this.#queue[0]; head?.kind === 'mark'; head = this.#queue[0]) {
      reached.push(head.mark);
      this.#queue.shift();
    }

    const slot = new Int16Array(this.slotSamples);
    let filled = 0;
    while (filled < this.slotSamples && this.#queue.length > 0) {
      const head = this.#queue[0]!;
      if (head.kind === 'mark') {
        this.#crossed.push(head.mark); // behind audio in this slot: reached when the slot ends
        this.#queue.shift();
        continue;
      }
      const n = Math.min(this.slotSamples - filled, head.pcm.length - head.offset);
      slot.set(head.pcm.subarray(head.offset, head.offset + n), filled);
      filled += n;
      head.offset += n;
      this.#queued -= n;
      if (head.offset === head.pcm.length) this.#queue.shift();
    }
    this.#slotStartMs = dueMs;
    this.#slotLength = filled;
    this.heard.add(dueMs, slot.subarray(0, filled));
    return reached;
  }

  /** Drops all unplayed audio and unreached marks at `nowMs`. */
  clear(nowMs: number): ClearResult<M> {
    const elapsed = Math.floor(((nowMs - this.#slotStartMs) * this.sampleRate) / 1000);
    const played = Math.min(this.#slotLength, Math.max(0, elapsed));
    const cut = this.#slotLength - played;
    this.heard.cutLast(cut);
    const droppedMarks = [...this.#crossed, ...this.#queue.flatMap((e) => (e.kind === 'mark' ? [e.mark] : []))];
    const droppedSamples = this.#queued + cut;
    this.#queue = [];
    this.#queued = 0;
    this.#crossed = [];
    this.#slotLength = played;
    return { droppedSamples, droppedMarks };
  }

  #playing(nowMs: number): boolean {
    return nowMs < this.#slotStartMs + (this.#slotLength / this.sampleRate) * 1000;
  }
}
