/**
 * An in-memory MediaTransport for pipeline tests (the transport interface is ours, so a double
 * is fair): it records every event, and its output (memory-output.test-helper.ts) every pushed
 * frame and clear, playing them out in simulated real time. Tests feed caller audio with `feed()`.
 */
import type { ChannelMessage } from '@switchboard/protocol';
import { setTimeout as sleep } from 'node:timers/promises';
import { audioFrame, durationMs, type AudioFrame } from '../audio/frame.ts';
import type { MediaTransport } from '../transport/types.ts';
import { MemoryOutput, type Played } from './memory-output.test-helper.ts';

export type { Played } from './memory-output.test-helper.ts';
export interface Sent {
  event: ChannelMessage;
  at: number;
}

export class MemoryTransport implements MediaTransport {
  readonly kind = 'webrtc' as const;
  readonly output: MemoryOutput;
  readonly played: Played[];
  readonly events: Sent[] = [];
  readonly clears: Array<{ at: number; playedMs: number }>;
  closedWith: string | undefined;
  private readonly clock: () => number;
  private readonly audioCbs = new Set<(f: AudioFrame) => void>();
  private readonly eventCbs = new Set<(e: ChannelMessage) => void>();
  private readonly closeCbs = new Set<(r: string) => void>();
  private readonly eventWaiters = new Set<() => void>();

  constructor(clock: () => number = () => performance.now()) {
    this.clock = clock;
    this.output = new MemoryOutput(clock);
    this.played = this.output.played;
    this.clears = this.output.clears;
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
  /** How often the pipeline said a reply's audio was complete. */
  get finished(): number {
    return this.output.finished;
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

  /** Total ms of audio pushed to the output. */
  playedMs(filter: (p: Played) => boolean = () => true): number {
    return this.output.playedMs(filter);
  }
}
