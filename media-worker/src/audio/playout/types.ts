/**
 * The playout engine's seams (engine.ts implements them): what the pipeline sees of a call's
 * output (PlayoutOutput), and what a transport plugs into the engine (PlayoutSink). One engine
 * paces every transport's reply audio on the shared frame clock; sinks only encode and send.
 */
import type { FrameClock } from '../frame-clock.ts';
import type { AudioFrame } from '../frame.ts';
import type { LatenessSummary } from './lateness.ts';

/** How a reply segment ended. */
export interface SegmentResult {
  /**
   * Ms of the segment the listener heard: acknowledged by the far end (sinks that acknowledge:
   * provider marks or checkpoints, a stream client's mark echoes), else sent (RTP).
   */
  playedMs: number;
  /** Cleared (barge-in), or the output was stopped, before all of it was heard. */
  interrupted: boolean;
}

/** What the engine tells a sink about each frame it sends. */
export interface SendMeta {
  /** The engine's frame sequence number (1, 2, ...): an acknowledging sink names it in its mark. */
  seq: number;
  /** RTP timestamp on the clock's grid, at `rtpClockRate` (meaningful for sinks with leadMs 0). */
  rtpTimestamp: number;
  /** First frame of a talkspurt (RFC 3551 section 4.1). */
  marker: boolean;
}

/** A transport's end of the engine: the output format, and how a frame goes out. */
export interface PlayoutSink {
  /** Rate of the frames sent (the engine resamples to it, unless the audio is at one of followRates). */
  readonly sampleRate: number;
  /** Channels of the frames sent. Default 1. */
  readonly channels?: number;
  /** Rates the sink takes natively (Opus: 8 to 48 kHz): audio at one of them is not resampled. */
  readonly followRates?: readonly number[];
  /** RTP clock rate of SendMeta.rtpTimestamp. Default sampleRate. */
  readonly rtpClockRate?: number;
  /**
   * Ms of audio the far end may hold ahead of real time. 0 (RTP): one frame per clock tick. More
   * (a provider's playout buffer): up to two frames per tick until the far end holds this much.
   */
  readonly leadMs: number;
  /** The far end reports what it played (engine.acknowledge(seq)); false: a frame sent counts as heard. */
  readonly acknowledges: boolean;
  /** Sends one frame (exactly frameMs at the sink's current rate). Should not throw. */
  send(frame: AudioFrame, meta: SendMeta): void;
  /** Work ahead of the frame's tick (encoding it); send() gets the same frame object later, or never. */
  prepare?(frame: AudioFrame): void;
  /** The engine dropped the audio the far end holds (barge-in): tell it to drop its buffer. */
  clear(): void;
}

/** The pipeline's view of a call's output: segments of reply audio, their results and room. */
export interface PlayoutOutput {
  /** Queues reply audio (any rate, any length); opens a segment if none is open. */
  push(frame: AudioFrame): void;
  /**
   * Closes the open segment (its partial last frame is padded and played) and resolves with its
   * result once all of it was heard, or it was cleared or the output stopped. With no open
   * segment, resolves at once with the last segment's result.
   */
  finish(): Promise<SegmentResult>;
  /** Barge-in: drops every queued frame, clears the far end, and returns the open segment's result (interrupted). */
  clear(): SegmentResult;
  /** Ms queued and not yet heard: local queue plus what the far end holds unacknowledged. */
  queuedMs(): number;
  /** Resolves true once queuedMs() <= ms (heard by events, not polled), or false when `signal` aborts first. */
  whenQueuedAtMost(ms: number, signal: AbortSignal): Promise<boolean>;
}

export interface PlayoutEngineOptions {
  sink: PlayoutSink;
  /** The clock whose ticks it sends on (its frameMs must match). Default FrameClock.shared(frameMs). */
  clock?: FrameClock;
  /** Frame length per tick. Default 20. */
  frameMs?: number;
  /** Most audio kept queued; the oldest is dropped beyond it. Default 10000. */
  maxQueueMs?: number;
  /** How long past the play clock an unacknowledged frame counts as heard anyway (far-end.ts). Default 1000. */
  markSlackMs?: number;
  /** Ticks kept for the lateness percentiles. Default 500. */
  statsWindow?: number;
  /** RTP timestamp of tick 0. Default random, as RFC 3550 recommends. */
  initialRtpTimestamp?: number;
  /** Speex quality used when input must be resampled. Default 5. */
  resampleQuality?: number;
}

export interface PlayoutStats {
  framesSent: number;
  /** Ticks that sent nothing (nothing queued, or paused). */
  silentTicks: number;
  /** Ticks passed over by skip-ahead after a stall. */
  skippedTicks: number;
  /** Audio dropped because the queue was full. */
  droppedMs: number;
  /** Audio dropped from the local queue by clear(). */
  clearedMs: number;
  queuedMs: number;
  /** How late ticks fired vs their due time, over the last `statsWindow` ticks. */
  latenessMs: LatenessSummary;
  /** Ticks that fired more than LATE_TICK_MS after their due time, since creation. */
  lateTicks: number;
  /** Ticks the clock ran (each one's lateness is measured), since creation: lateTicks' denominator. */
  ticksRun: number;
  /** Audio counted as heard: acknowledged, assumed after the slack, or sent (sinks that do not acknowledge). */
  heardMs: number;
  /** Acknowledgements that counted. */
  acks: number;
  /** Times the far end was told to clear. */
  clears: number;
}
