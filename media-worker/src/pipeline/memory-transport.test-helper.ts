/**
 * An in-memory MediaTransport for pipeline tests (the transport interface is ours, so a double
 * is fair): it records every played frame, event and clear, and simulates a real-time playout
 * clock (queued audio drains at 1 ms per ms of `clock()`), so `queuedMs()` and the playedMs of
 * `clearPlayback()` behave like a paced transport. Tests feed caller audio with `feed()`.
 */
import type { ChannelMessage } from '@switchboard/protocol';
import { setTimeout as sleep } from 'node:timers/promises';
import { audioFrame, durationMs, type AudioFrame } from '../audio/frame.ts';
import type { MediaTransport } from '../transport/types.ts';

export interface Played {
  frame: AudioFrame;
  at: number;
}
export interface Sent {
  event: ChannelMessage;
  at: number;
}

export class MemoryTransport implements MediaTransport {
  readonly kind = 'webrtc' as const;
  readonly played: Played[] = [];
  readonly events: Sent[] = [];
  readonly clears: Array<{ at: number; playedMs: number }> = [];
  closedWith: string | undefined;
  private readonly clock: () => number;
  private readonly audioCbs = new Set<(f: AudioFrame) => void>();
  private readonly eventCbs = new Set<(e: ChannelMessage) => void>();
  private readonly closeCbs = new Set<(r: string) => void>();
  private readonly eventWaiters = new Set<() => void>();
  /** Clock time at which everything queued so far will have played. */
  private playoutEnd = 0;
  /** Audio queued since the last clear (ms): clearPlayback() reports what of it was played. */
  private queuedSinceClear = 0;

  constructor(clock: () => number = () => performance.now()) {
    this.clock = clock;
  }

  // --- MediaTransport ---
  onAudio(cb: (frame: AudioFrame) => void): () => void {
    this.audioCbs.add(cb);
    return () => this.audioCbs.delete(cb);
  }
  onEvent(cb: (event: ChannelMessage) => void): () => void {
    this.eventCbs.add(cb);
    return () => this.eventCbs.delete(cb);
  }
  onClose(cb: (reason: string) => void): () => void {
    if (this.closedWith !== undefined) cb(this.closedWith);
    this.closeCbs.add(cb);
    return () => this.closeCbs.delete(cb);
  }
  play(frame: AudioFrame): void {
    const now = this.clock();
    const ms = durationMs(frame);
    this.played.push({ frame, at: now });
    this.playoutEnd = Math.max(this.playoutEnd, now) + ms;
    this.queuedSinceClear += ms;
  }
  finishPlayback(): void {
    this.finished++;
  }

  /** How often the pipeline said a reply's audio was complete. */
  finished = 0;

  clearPlayback(): number {
    const playedMs = this.queuedSinceClear - this.queuedMs();
    this.playoutEnd = this.clock();
    this.queuedSinceClear = 0;
    this.clears.push({ at: this.clock(), playedMs });
    return playedMs;
  }
  queuedMs(): number {
    return Math.max(0, this.playoutEnd - this.clock());
  }
  sendEvent(event: ChannelMessage): void {
    this.events.push({ event, at: this.clock() });
    for (const w of [...this.eventWaiters]) w();
  }
  close(reason: string): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = reason;
    for (const cb of [...this.closeCbs]) cb(reason);
  }

  // --- test side ---
  /** Listeners still registered (0 after the pipeline stopped). */
  listenerCount(): number {
    return this.audioCbs.size + this.eventCbs.size + this.closeCbs.size;
  }

  /** A client event, as if from the data channel. */
  clientEvent(event: ChannelMessage): void {
    for (const cb of [...this.eventCbs]) cb(event);
  }

  /**
   * Feeds caller audio in `frameMs` pieces, paced at `speed` × real time (Infinity: no pauses),
   * optionally stopping early when `until()` turns true.
   */
  async feed(audio: AudioFrame, { frameMs = 20, speed = 1, until }: { frameMs?: number; speed?: number; until?: () => boolean } = {}): Promise<void> {
    const step = Math.round((audio.sampleRate * frameMs) / 1000) * audio.channels;
    const start = performance.now();
    let fedMs = 0;
    for (let i = 0; i < audio.samples.length; i += step) {
      if (until?.()) return;
      const f = audioFrame(audio.samples.slice(i, Math.min(i + step, audio.samples.length)), audio.sampleRate, audio.channels);
      for (const cb of [...this.audioCbs]) cb(f);
      fedMs += durationMs(f);
      if (Number.isFinite(speed)) {
        const ahead = fedMs / speed - (performance.now() - start);
        if (ahead > 1) await sleep(ahead);
      } else if ((i / step) % 25 === 0) {
        await sleep(0); // let the pipeline run now and then
      }
    }
  }

  /** Event types in order, optionally only those in `types`. */
  types(only?: readonly string[]): string[] {
    return this.events.map((e) => e.event.type).filter((t) => !only || only.includes(t));
  }

  eventsOf<T extends ChannelMessage = ChannelMessage>(type: string): T[] {
    return this.events.filter((e) => e.event.type === type).map((e) => e.event as T);
  }

  /** Resolves once `count` events of `type` have been sent (rejects after `timeoutMs`). */
  waitForEvent(type: string, count = 1, timeoutMs = 10_000): Promise<void> {
    return this.waitFor(() => this.eventsOf(type).length >= count, `${count} × ${type}`, timeoutMs);
  }

  /** Resolves once `pred()` holds (checked now, after each event, and every 10 ms). */
  waitFor(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        clearInterval(poll);
        this.eventWaiters.delete(check);
      };
      const check = (): void => {
        if (!pred()) return;
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${what}; events: ${this.types().join(', ')}`));
      }, timeoutMs);
      const poll = setInterval(check, 10);
      this.eventWaiters.add(check);
    });
  }

  /** Total ms of audio handed to play(). */
  playedMs(filter: (p: Played) => boolean = () => true): number {
    return this.played.filter(filter).reduce((s, p) => s + durationMs(p.frame), 0);
  }
}
