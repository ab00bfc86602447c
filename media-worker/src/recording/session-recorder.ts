/**
 * Records one session: a track per leg (`leg-{legId}`) and the `mix`, each its own Ogg Opus
 * file through a sink from the factory. Tracks are independent: one failing (storage stalled,
 * encoder error) does not stop the others, and `close()` reports each track's outcome.
 *
 * Media-path rules as in TrackRecorder: `push` never throws (an unknown or closed track is
 * ignored and reported by the return value). Setup mistakes (bad name, duplicate, too many
 * tracks) throw from `addTrack`, which runs outside the tick.
 */
import type { AudioFrame } from '../audio/frame.ts';
import { initResampler } from '../audio/resampler.ts';
import { checkSafeName, type SinkFactory } from './sink.ts';
import { TrackRecorder, type TrackRecorderOptions } from './track-recorder.ts';

/** 16 legs plus the mix. */
export const MAX_TRACKS = 17;
export const MIX_TRACK = 'mix';

export function legTrack(legId: string): string {
  return `leg-${legId}`;
}

export type TrackResult =
  | { readonly track: string; readonly ok: true; readonly uri: string; readonly bytes: number; readonly durationMs: number }
  | { readonly track: string; readonly ok: false; readonly error: Error; readonly durationMs: number };

export interface SessionRecorderOptions {
  readonly sinkFactory: SinkFactory;
  /** Encoder and Ogg options for every track. */
  readonly track?: TrackRecorderOptions;
}

export class SessionRecorder {
  readonly #sinkFactory: SinkFactory;
  readonly #trackOptions: TrackRecorderOptions;
  readonly #tracks = new Map<string, TrackRecorder>();
  readonly #results = new Map<string, Promise<TrackResult>>();

  /**
   * Loads the resampler's wasm module (tracks resample synchronously on the media path when a
   * frame's rate differs from the track's encode rate), then builds the recorder.
   */
  static async create(options: SessionRecorderOptions): Promise<SessionRecorder> {
    await initResampler();
    return new SessionRecorder(options);
  }

  /** Synchronous; resampling tracks fail unless `initResampler()` has completed. */
  constructor(options: SessionRecorderOptions) {
    this.#sinkFactory = options.sinkFactory;
    this.#trackOptions = options.track ?? {};
  }

  /** Names of all tracks ever added (closed ones included). */
  get tracks(): string[] {
    return [...this.#tracks.keys()];
  }

  /** Starts a track. Throws on an unsafe or duplicate name, or past MAX_TRACKS tracks. */
  addTrack(name: string, options: TrackRecorderOptions = {}): void {
    checkSafeName('track name', name);
    if (this.#tracks.has(name)) throw new Error(`track ${name} already exists in this session`);
    if (this.#tracks.size >= MAX_TRACKS) throw new RangeError(`a session records at most ${MAX_TRACKS} tracks`);
    const recorder = new TrackRecorder(this.#sinkFactory(name), { ...this.#trackOptions, ...options });
    this.#tracks.set(name, recorder);
  }

  /** Records one tick of `name`'s audio. False if the track is unknown, closed or failed. */
  push(name: string, frame: AudioFrame): boolean {
    const t = this.#tracks.get(name);
    if (!t || this.#results.has(name) || t.failed) return false;
    t.push(frame);
    return true;
  }

  /** Why a track failed, if it did. */
  failure(name: string): Error | undefined {
    return this.#tracks.get(name)?.failed;
  }

  /** Ends one track (e.g. its leg hung up). Failures are in the result; rejects only for an unknown track. */
  closeTrack(name: string): Promise<TrackResult> {
    const t = this.#tracks.get(name);
    if (!t) return Promise.reject(new Error(`no track ${name} in this session`));
    let result = this.#results.get(name);
    if (!result) {
      result = t.close().then(
        (r): TrackResult => ({ track: name, ok: true, ...r }),
        (err: unknown): TrackResult => ({
          track: name,
          ok: false,
          error: err instanceof Error ? err : new Error(String(err)),
          durationMs: t.durationMs,
        }),
      );
      this.#results.set(name, result);
    }
    return result;
  }

  /** Ends every track; resolves with each track's result in the order they were added. */
  close(): Promise<TrackResult[]> {
    return Promise.all(this.tracks.map((name) => this.closeTrack(name)));
  }

  /** Abandons every open track: nothing is kept for them. */
  abort(reason: Error | string): void {
    for (const [name, t] of this.#tracks) if (!this.#results.has(name)) t.abort(reason);
  }
}
