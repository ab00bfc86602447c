/**
 * A MediaTransport that lives in memory, for running a handler through the real pipeline in a
 * test: the test pushes caller audio and client events in; every reply frame and event sent to
 * the client is recorded. Playout is instant: a reply's audio counts as heard as soon as it is
 * pushed, so a turn completes as fast as the handler produces it.
 */
import type { ChannelMessage } from '@switchboard/protocol';
import { durationMs, type AudioFrame } from '../audio/frame.ts';
import type { PlayoutOutput, SegmentResult } from '../audio/playout/types.ts';
import type { MediaTransport } from '../transport/types.ts';

/** Records pushed frames; every segment is heard whole the moment it is finished. */
class InstantOutput implements PlayoutOutput {
  readonly frames: AudioFrame[] = [];
  #segmentMs = 0;
  #last: SegmentResult = { playedMs: 0, interrupted: false };

  push(frame: AudioFrame): void {
    this.frames.push(frame);
    this.#segmentMs += durationMs(frame);
  }

  finish(): Promise<SegmentResult> {
    if (this.#segmentMs > 0) this.#last = { playedMs: this.#segmentMs, interrupted: false };
    this.#segmentMs = 0;
    return Promise.resolve(this.#last);
  }

  clear(): SegmentResult {
    const result = { playedMs: this.#segmentMs, interrupted: this.#segmentMs > 0 };
    this.#segmentMs = 0;
    return result;
  }

  queuedMs(): number {
    return 0;
  }

  whenQueuedAtMost(_ms: number, signal: AbortSignal): Promise<boolean> {
    return Promise.resolve(!signal.aborted);
  }
}

export class RecordingTransport implements MediaTransport {
  readonly kind = 'webrtc' as const;
  readonly output = new InstantOutput();
  /** Every event sent to the client, in order. */
  readonly events: ChannelMessage[] = [];
  readonly #audio = new Set<(f: AudioFrame) => void>();
  readonly #event = new Set<(e: ChannelMessage) => void>();
  readonly #close = new Set<(r: string) => void>();
  #closedWith: string | undefined;

  /** Reply audio pushed so far, frame by frame. */
  get frames(): readonly AudioFrame[] {
    return this.output.frames;
  }

  onAudio(cb: (frame: AudioFrame) => void): () => void {
    this.#audio.add(cb);
    return () => this.#audio.delete(cb);
  }

  onEvent(cb: (event: ChannelMessage) => void): () => void {
    this.#event.add(cb);
    return () => this.#event.delete(cb);
  }

  onClose(cb: (reason: string) => void): () => void {
    if (this.#closedWith !== undefined) cb(this.#closedWith);
    this.#close.add(cb);
    return () => this.#close.delete(cb);
  }

  sendEvent(event: ChannelMessage): void {
    this.events.push(event);
  }

  close(reason: string): void {
    if (this.#closedWith !== undefined) return;
    this.#closedWith = reason;
    for (const cb of [...this.#close]) cb(reason);
  }

  /** Caller audio, as if it arrived from the network. */
  pushAudio(frame: AudioFrame): void {
    for (const cb of [...this.#audio]) cb(frame);
  }

  /** A client event, as if it arrived on the data channel. */
  pushEvent(event: ChannelMessage): void {
    for (const cb of [...this.#event]) cb(event);
  }
}
