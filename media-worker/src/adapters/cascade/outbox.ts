/**
 * What the cascade hands to the pipeline, in order: audio frames and events of its replies, each
 * tagged with the reply it belongs to so a barge-in drops that reply's queued audio at once. The
 * handler's generator drains it (one `yield` per item) and calls the item's `onYield` once the
 * pipeline took it (it pushes a frame to the transport before resuming the generator).
 *
 * Bounded: audio waits (`pushAudio` resolves later) while more than `maxAudioMs` is queued, so a
 * TTS faster than playback cannot grow it; events are few per turn but capped too.
 */
import { durationMs, type AudioFrame } from '../../audio/frame.ts';
import type { ReplyChunk } from '../../handlers/types.ts';

export interface OutboxItem {
  chunk: ReplyChunk;
  reply: number | undefined;
  onYield: (() => void) | undefined;
}

export class Outbox {
  readonly #items: Array<OutboxItem & { ms: number }> = [];
  readonly #maxAudioMs: number;
  readonly #maxEvents: number;
  #audioMs = 0;
  #reader: { resolve: (i: OutboxItem | undefined) => void; reject: (e: Error) => void } | undefined;
  readonly #roomWaiters = new Set<() => void>();
  #ended = false;
  #error: Error | undefined;

  constructor(maxAudioMs = 2000, maxEvents = 1000) {
    this.#maxAudioMs = maxAudioMs;
    this.#maxEvents = maxEvents;
  }

  /** An event (never waits). */
  push(chunk: ReplyChunk, reply?: number, onYield?: () => void): void {
    if (this.#items.length >= this.#maxEvents) return this.fail(new Error(`cascade: more than ${this.#maxEvents} items waiting for the pipeline`));
    this.#add({ chunk, reply, onYield, ms: 0 });
  }

  /** A frame of `reply`; waits while the queue holds too much audio. False if dropped (the reply was cut, or the outbox ended). */
  async pushAudio(frame: AudioFrame, reply: number, signal: AbortSignal, onYield?: () => void): Promise<boolean> {
    while (this.#audioMs > this.#maxAudioMs && !signal.aborted && !this.#ended) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.#roomWaiters.delete(done);
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.#roomWaiters.add(done);
        signal.addEventListener('abort', done, { once: true });
      });
    }
    if (signal.aborted || this.#ended) return false;
    this.#add({ chunk: frame, reply, onYield, ms: durationMs(frame) });
    return true;
  }

  /** Drops everything queued for `reply` (barge-in). */
  dropReply(reply: number): void {
    for (let i = this.#items.length - 1; i >= 0; i--) {
      const it = this.#items[i]!;
      if (it.reply !== reply) continue;
      this.#audioMs -= it.ms;
      this.#items.splice(i, 1);
    }
    this.#wakeWriters();
  }

  /** The next item, or undefined once ended; throws the failure given to fail(). */
  next(): Promise<OutboxItem | undefined> {
    const it = this.#items.shift();
    if (it) {
      this.#audioMs -= it.ms;
      if (this.#audioMs <= this.#maxAudioMs) this.#wakeWriters();
      return Promise.resolve(it);
    }
    if (this.#error) return Promise.reject(this.#error);
    if (this.#ended) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => (this.#reader = { resolve, reject }));
  }

  /** No more items: the reader gets undefined (queued items are discarded). */
  end(): void {
    this.#finish(undefined);
  }

  /** The reader's next call throws `error` (queued items are discarded: the handler is failing). */
  fail(error: Error): void {
    this.#finish(error);
  }

  #finish(error: Error | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#items.length = 0;
    this.#audioMs = 0;
    this.#wakeWriters();
    const r = this.#reader;
    this.#reader = undefined;
    if (error) r?.reject(error);
    else r?.resolve(undefined);
  }

  #add(item: OutboxItem & { ms: number }): void {
    if (this.#ended) return;
    const r = this.#reader;
    if (r) {
      this.#reader = undefined;
      r.resolve(item);
      return;
    }
    this.#items.push(item);
    this.#audioMs += item.ms;
  }

  #wakeWriters(): void {
    for (const w of [...this.#roomWaiters]) w();
  }
}
