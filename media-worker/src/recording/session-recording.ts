/**
 * Records one session from its conference: `mix` (every leg and the handler's audio to everyone,
 * `MixResult.all`) from the first recorded tick, and `leg-{legId}` (what that leg said) from the
 * tick the leg first appears in `MixResult.legs` until the tick it is gone, when its track is
 * closed at once. A leg's track carries `START_OFFSET_MS` (its start after the mix's, in the
 * OpusTags) so the tracks can be lined up. At most MAX_RECORDING_TRACKS tracks: a leg past that
 * gets none (logged, counted in `stats`).
 *
 * Constraints it encodes:
 * - It runs inside the conference's tick (Conference.onTick): it never throws into it and never
 *   waits there. Pushing a frame is synchronous and consumes it (the encoder's reframer copies),
 *   so the mixer's reused buffers need no copy here.
 * - Optional spoken notice, before anything is recorded: said (Flite, say()) through
 *   `conference.handlerOutputTo(legId)` to each leg `notice.legIds()` names at that moment; the
 *   recording starts once every one of them has heard it (`finish()`), or after
 *   `noticeTimeoutMs` (default 10 s) whatever happens. The caller names phone legs only: a WebRTC
 *   caller sees that the session is recorded in its UI (it asked with `?record=true`). Legs that
 *   join after the recording started hear no notice.
 * - Storage comes from the configuration (recording-storage.ts). None configured, or any other
 *   set-up failure: the session goes on unrecorded and `close()` reports it in `failed`.
 */
import { MAX_RECORDING_TRACKS, type RecordingFailure, type RecordingSaved, type RecordingTrack } from '@switchboard/protocol';
import type { AudioFrame } from '../audio/frame.ts';
import { durationMs } from '../audio/frame.ts';
import type { PlayoutOutput } from '../audio/playout/types.ts';
import type { RecordingConfig } from '../config.ts';
import type { Conference } from '../conference/conference.ts';
import type { MixResult } from '../conference/mixer.ts';
import { say as flite } from '../voice/say.ts';
import { sinkFactoryFor } from './recording-storage.ts';
import { legTrack, MIX_TRACK, SessionRecorder, type TrackResult } from './session-recorder.ts';
import type { SinkFactory } from './sink.ts';

/** How long the notice may hold the recording back: a stalled leg cannot keep a session unrecorded. */
export const NOTICE_TIMEOUT_MS = 10_000;
/** The notice is pushed at most this far ahead of playout (an engine keeps at most 10 s queued). */
const NOTICE_AHEAD_MS = 2_000;
/** RecordingFailure.error's bound. */
const MAX_ERROR_CHARS = 256;

export interface RecordingNotice {
  readonly text: string;
  /** The legs to tell (phone legs), asked once when the recording is about to start. */
  readonly legIds: () => string[];
}

export interface StartRecordingOptions {
  readonly sessionId: string;
  /** The session's conference, kept for the whole session (SessionLegs.keepConference()). */
  readonly conference: Promise<Conference>;
  readonly config: RecordingConfig;
  readonly log: (m: string) => void;
  readonly notice?: RecordingNotice;
  /**
   * Appended to every track's name (`mix-2`, `leg-{id}-2`): a session taken over by another worker
   * records its next part beside the first instead of over it.
   */
  readonly part?: number;
  /** Overrides the storage the configuration picks (tests). */
  readonly sinkFactory?: SinkFactory;
  /** Default NOTICE_TIMEOUT_MS. */
  readonly noticeTimeoutMs?: number;
  /** The voice of the notice; default say() (Flite). */
  readonly say?: (text: string, o: { sampleRate: number; signal: AbortSignal }) => AsyncIterable<AudioFrame>;
}

export interface SessionRecordingStats {
  readonly state: 'starting' | 'recording' | 'closing' | 'closed';
  /** Ticks recorded into the mix. */
  readonly ticks: number;
  /** Tracks opened, the mix included. */
  readonly tracks: number;
  /** Legs that got no track (past MAX_RECORDING_TRACKS, or their track could not open). */
  readonly legsWithoutTrack: number;
  /** Errors caught inside the tick (the first one is logged). */
  readonly tickErrors: number;
  /** Ms of notice audio pushed to each told leg. */
  readonly noticeMs: number;
  /** performance.now() at the first recorded tick. */
  readonly startedAt: number | undefined;
}

export interface SessionRecording {
  /** Stops recording and closes every track; resolves when stored. Idempotent; never rejects. */
  close(): Promise<RecordingSaved>;
  readonly stats: SessionRecordingStats;
}

export function startRecording(o: StartRecordingOptions): SessionRecording {
  return new Recording(o);
}

type LegState = 'recording' | 'closed' | 'none';

class Recording implements SessionRecording {
  readonly #o: StartRecordingOptions;
  readonly #stop = new AbortController();
  readonly #legs = new Map<string, LegState>();
  readonly #seen = new Set<string>();
  readonly #started: Promise<void>;
  #recorder: SessionRecorder | null = null;
  #setupError: Error | null = null;
  #off: (() => void) | null = null;
  #closing: Promise<RecordingSaved> | null = null;
  #state: SessionRecordingStats['state'] = 'starting';
  #firstTick: number | undefined;
  #startedAt: number | undefined;
  #ticks = 0;
  #legsWithoutTrack = 0;
  #tickErrors = 0;
  #noticeMs = 0;

  constructor(o: StartRecordingOptions) {
    this.#o = o;
    this.#started = this.#start().catch((err: unknown) => {
      this.#setupError = asError(err);
      o.log(`recording: not started: ${this.#setupError.message}`);
    });
  }

  get stats(): SessionRecordingStats {
    return {
      state: this.#state,
      ticks: this.#ticks,
      tracks: this.#recorder?.tracks.length ?? 0,
      legsWithoutTrack: this.#legsWithoutTrack,
      tickErrors: this.#tickErrors,
      noticeMs: this.#noticeMs,
      startedAt: this.#startedAt,
    };
  }

  close(): Promise<RecordingSaved> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #start(): Promise<void> {
    const o = this.#o;
    const sinkFactory = o.sinkFactory ?? sinkFactoryFor(o.config, o.sessionId);
    const stopped = new Promise<null>((resolve) => this.#stop.signal.addEventListener('abort', () => resolve(null), { once: true }));
    const conf = await Promise.race([o.conference, stopped]);
    if (!conf) return;
    const recorder = await SessionRecorder.create({ sinkFactory });
    if (o.notice?.text) await this.#sayNotice(conf, o.notice);
    if (this.#stop.signal.aborted) return;
    this.#recorder = recorder;
    this.#state = 'recording';
    this.#off = conf.onTick(this.#tick);
  }

  /** Says the notice to the named legs; resolves when all heard it, on the bound, or on close. */
  async #sayNotice(conf: Conference, notice: RecordingNotice): Promise<void> {
    const outputs = notice.legIds().filter((id) => conf.has(id)).map((id) => conf.handlerOutputTo(id));
    if (outputs.length === 0) return;
    const bound = AbortSignal.timeout(this.#o.noticeTimeoutMs ?? NOTICE_TIMEOUT_MS);
    const signal = AbortSignal.any([bound, this.#stop.signal]);
    const aborted = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    const speak = async (): Promise<void> => {
      const voice = this.#o.say ?? flite;
      for await (const frame of voice(notice.text, { sampleRate: conf.sampleRate, signal })) {
        for (const out of outputs) out.push(frame);
        this.#noticeMs += durationMs(frame);
        await Promise.all(outputs.map((out) => aheadAtMost(out, NOTICE_AHEAD_MS, signal)));
      }
      await Promise.all(outputs.map((out) => out.finish()));
    };
    await Promise.race([speak().catch((err: unknown) => this.#o.log(`recording: notice failed: ${asError(err).message}`)), aborted]);
    if (bound.aborted) this.#o.log(`recording: notice not heard within ${this.#o.noticeTimeoutMs ?? NOTICE_TIMEOUT_MS} ms; recording anyway`);
  }

  readonly #tick = (r: MixResult): void => {
    try {
      this.#record(r);
    } catch (err) {
      if (this.#tickErrors++ === 0) this.#o.log(`recording: tick failed: ${asError(err).message}`);
    }
  };

  #record(r: MixResult): void {
    const rec = this.#recorder;
    if (!rec) return;
    if (this.#firstTick === undefined) {
      this.#firstTick = r.tick;
      this.#startedAt = performance.now();
      rec.addTrack(this.#name(MIX_TRACK), { comments: trackComments(this.#o.sessionId, 0) });
    }
    rec.push(this.#name(MIX_TRACK), r.all);
    this.#ticks++;
    const offsetMs = (r.tick - this.#firstTick) * durationMs(r.all);
    const seen = this.#seen;
    seen.clear();
    for (const leg of r.legs) {
      seen.add(leg.legId);
      const state = this.#legs.get(leg.legId) ?? this.#openLeg(rec, leg.legId, offsetMs);
      if (state === 'recording') rec.push(this.#name(legTrack(leg.legId)), leg.frame);
    }
    for (const [legId, state] of this.#legs) {
      if (state !== 'recording' || seen.has(legId)) continue;
      this.#legs.set(legId, 'closed');
      void rec.closeTrack(this.#name(legTrack(legId))); // its result is kept by the recorder for close()
    }
  }

  #name(track: string): string {
    return this.#o.part && this.#o.part > 1 ? `${track}-${this.#o.part}` : track;
  }

  #openLeg(rec: SessionRecorder, legId: string, offsetMs: number): LegState {
    let state: LegState = 'none';
    if (rec.tracks.length >= MAX_RECORDING_TRACKS) {
      this.#o.log(`recording: leg ${legId} not recorded: a session records at most ${MAX_RECORDING_TRACKS} tracks`);
    } else {
      try {
        rec.addTrack(this.#name(legTrack(legId)), { comments: trackComments(this.#o.sessionId, offsetMs) });
        state = 'recording';
      } catch (err) {
        this.#o.log(`recording: leg ${legId} not recorded: ${asError(err).message}`);
      }
    }
    if (state === 'none') this.#legsWithoutTrack++;
    this.#legs.set(legId, state);
    return state;
  }

  async #close(): Promise<RecordingSaved> {
    this.#state = 'closing';
    this.#stop.abort();
    await this.#started;
    this.#off?.();
    this.#off = null;
    const results = this.#recorder ? await this.#recorder.close() : [];
    this.#state = 'closed';
    const saved = toRecordingSaved(results);
    if (this.#setupError) (saved.failed ??= []).push({ track: MIX_TRACK, error: clip(this.#setupError.message) });
    return saved;
  }
}

/** A session's track results in the protocol's shape: stored tracks, and failures with their reason. */
export function toRecordingSaved(results: readonly TrackResult[]): { tracks: RecordingTrack[]; failed?: RecordingFailure[] } {
  const tracks: RecordingTrack[] = [];
  const failed: RecordingFailure[] = [];
  for (const r of results) {
    if (r.ok) tracks.push({ track: r.track, uri: r.uri, bytes: r.bytes, durationMs: r.durationMs });
    else failed.push({ track: r.track, error: clip(r.error.message) });
  }
  return failed.length > 0 ? { tracks, failed } : { tracks };
}

function trackComments(sessionId: string, offsetMs: number): string[] {
  return [`SESSION_ID=${sessionId}`, `START_OFFSET_MS=${offsetMs}`];
}

/** Waits until `out` holds at most `ms` unheard (or `signal` aborts). */
async function aheadAtMost(out: PlayoutOutput, ms: number, signal: AbortSignal): Promise<void> {
  if (out.queuedMs() > ms) await out.whenQueuedAtMost(ms / 2, signal);
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function clip(s: string): string {
  return s.length > MAX_ERROR_CHARS ? `${s.slice(0, MAX_ERROR_CHARS - 1)}…` : s;
}
