import type { ReceivedFrame } from './call-types.ts';

/** Media frames arriving closer than this to the previous one are merged into one `received` entry. */
export const MEDIA_BURST_GAP_MS = 100;

/** The server frames of a call by stream time, and the ones that broke the provider's format. */
export class ReceivedLog {
  readonly received: ReceivedFrame[] = [];
  readonly clears: number[] = [];
  readonly protocolErrors: string[] = [];
  #lastMediaAt = -Infinity;

  media(atMs: number, samples: number): void {
    const last = this.received[this.received.length - 1];
    if (last?.event === 'media' && atMs - this.#lastMediaAt <= MEDIA_BURST_GAP_MS) {
      last.bytes = (last.bytes ?? 0) + samples;
      last.frames = (last.frames ?? 0) + 1;
    } else {
      this.received.push({ atMs, event: 'media', bytes: samples, frames: 1 });
    }
    this.#lastMediaAt = atMs;
  }

  mark(atMs: number, name: string): void {
    this.received.push({ atMs, event: 'mark', name });
  }

  clear(atMs: number): void {
    this.received.push({ atMs, event: 'clear' });
    this.clears.push(atMs);
  }

  error(atMs: number, message: string): void {
    this.protocolErrors.push(`${atMs.toFixed(0)} ms: ${message}`);
  }
}
