/**
 * Records one audio track to an Ogg Opus file: AudioFrames in (any rate, any size), 20 ms Opus
 * packets, Ogg pages, a RecordingSink.
 *
 * Contract with the caller: push exactly the audio of each 20 ms media tick, silence included
 * (a muted or silent leg still gets its silent frame). Time in a recording is the count of
 * samples pushed, so tracks of one session started on the same tick stay aligned sample for
 * sample; a track started later begins at its own start (put the offset in a comment, e.g.
 * `START_OFFSET_MS=...`, if the reader needs it).
 *
 * `push` runs on the media path: it never throws and never waits. An encoder error or a sink
 * failure (e.g. the pending-bytes bound) ends this recording only; `failed` says why and
 * `close()` rejects with it.
 */
import type { AudioFrame } from '../audio/frame.ts';
import { OggOpusWriter } from './ogg-opus-writer.ts';
import type { RecordingSink } from './sink.ts';
import { PACKET_SAMPLES_48K, TrackEncoder, type EncodedPacket, type TrackEncoderOptions } from './track-encoder.ts';

export interface TrackRecorderOptions extends TrackEncoderOptions {
  /** OpusTags vendor string. */
  readonly vendor?: string;
  /** OpusTags user comments, `KEY=value`. */
  readonly comments?: readonly string[];
  /** Audio per Ogg page (what a crash can lose); default 1000 ms. */
  readonly pageMs?: number;
}

export interface TrackRecording {
  readonly uri: string;
  readonly bytes: number;
  /** Duration of the audio pushed (the file's playable duration). */
  readonly durationMs: number;
}

export class TrackRecorder {
  readonly #sink: RecordingSink;
  readonly #options: TrackRecorderOptions;
  readonly #encoder: TrackEncoder;
  #writer: OggOpusWriter | null = null;
  #closed: Promise<TrackRecording> | null = null;

  constructor(sink: RecordingSink, options: TrackRecorderOptions = {}) {
    const pageMs = options.pageMs ?? 1000;
    if (!(pageMs >= 20)) throw new RangeError(`page duration ${pageMs} ms is below one 20 ms packet`);
    // Bad comments or vendor are a setup error: surface them here, not on the first tick.
    new OggOpusWriter({ preSkip: 0, serial: 0, ...tagOptions(options) });
    this.#sink = sink;
    this.#options = options;
    this.#encoder = new TrackEncoder(options);
  }

  /** Why the recording failed, if it did. */
  get failed(): Error | undefined {
    return this.#sink.failed;
  }

  get durationMs(): number {
    return this.#encoder.durationMs;
  }

  /** Records one tick's audio. Never throws; does nothing once closed or failed. */
  push(frame: AudioFrame): void {
    if (this.#closed || this.#sink.failed) return;
    try {
      this.#write(this.#encoder.push(frame));
    } catch (err) {
      this.#sink.abort(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /**
   * Pads the last partial frame, writes the EOS page (end trimmed to the audio pushed), closes
   * the sink. Resolves when stored; rejects with the failure otherwise. Idempotent.
   */
  close(): Promise<TrackRecording> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  /** Abandons the recording: nothing is kept. */
  abort(reason: Error | string): void {
    this.#sink.abort(reason);
  }

  async #close(): Promise<TrackRecording> {
    try {
      if (!this.#sink.failed) {
        const { packets, endGranule } = this.#encoder.finish();
        this.#write(packets);
        for (const page of this.#writer!.end(endGranule)) this.#sink.write(page);
      }
    } catch (err) {
      this.#sink.abort(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.#encoder.destroy();
    }
    const { uri, bytes } = await this.#sink.close();
    return { uri, bytes, durationMs: this.#encoder.durationMs };
  }

  #write(packets: readonly EncodedPacket[]): void {
    const writer = (this.#writer ??= this.#createWriter());
    for (const p of packets) {
      for (const page of writer.writePacket(p.data, p.samples48)) this.#sink.write(page);
    }
  }

  /** Called once the encoder knows its rate (first frame, or close without any frame). */
  #createWriter(): OggOpusWriter {
    const setup = this.#encoder.setup ?? this.#encoder.configure(0);
    const writer = new OggOpusWriter({
      preSkip: setup.preSkip,
      inputSampleRate: setup.inputSampleRate,
      pageDurationSamples: Math.round((this.#options.pageMs ?? 1000) / 20) * PACKET_SAMPLES_48K,
      ...tagOptions(this.#options),
    });
    for (const page of writer.headers()) this.#sink.write(page);
    return writer;
  }
}

function tagOptions(o: TrackRecorderOptions): { vendor?: string; comments?: readonly string[] } {
  return {
    ...(o.vendor !== undefined ? { vendor: o.vendor } : {}),
    ...(o.comments !== undefined ? { comments: o.comments } : {}),
  };
}
