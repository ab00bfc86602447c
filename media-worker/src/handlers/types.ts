import type { ChannelMessage, SessionKind } from '@switchboard/protocol';
import type { AudioFrame } from '../audio/frame.ts';

/** What a handler knows of its session. */
export interface SessionInfo {
  id: string;
  kind: SessionKind;
  /** Phone calls: the caller and callee. */
  call?: { callSid: string; from: string; to: string; direction: 'inbound' | 'outbound' };
}

export interface HandlerContext {
  readonly session: SessionInfo;
  /** Aborted when the reply is interrupted (barge-in) or the session ends. */
  readonly signal: AbortSignal;
  /** Sends an event to the client (WebRTC data channel `events`). */
  send(event: ChannelMessage): void;
  /** The latest input the client sent, by `type` (e.g. `inputs.get('input')`). */
  readonly inputs: ReadonlyMap<string, ChannelMessage>;
  /**
   * Drops the reply audio queued for playback and returns how many ms of it were played (like
   * FastRTC's `clear_queue`): for stream handlers whose model reports its own barge-in.
   * Reply-on-pause handlers need not call it: the pipeline does on barge-in.
   */
  clearPlayback(): number;
}

/** What a handler yields: audio at any sample rate, or an event for the client. */
export type ReplyChunk = AudioFrame | ChannelMessage;

/** A reply to one user turn: `turn` is the user's speech, at `inputSampleRate`. */
export type TurnFn = (turn: AudioFrame, ctx: HandlerContext) => AsyncIterable<ReplyChunk>;

export interface ReplyOnPauseOptions {
  /** Silence after speech that ends the turn (ms). Default 600. */
  silenceMs?: number;
  /** Speech shorter than this is not a turn (ms). Default 250. */
  minSpeechMs?: number;
  /** VAD probability above which a frame is speech. Default 0.5. */
  speechThreshold?: number;
  /** A turn is cut and answered after this much continuous speech (ms). Default 30000. */
  maxSpeechMs?: number;
  /** Speech during a reply aborts it and drops queued audio. Default true. */
  canInterrupt?: boolean;
  /** The rate the handler gets the user's turn at. Default 16000. */
  inputSampleRate?: number;
  /** Played when the session starts. */
  greeting?: (ctx: HandlerContext) => AsyncIterable<ReplyChunk>;
}

/** Raw duplex: frames in, frames and events out (speech-to-speech models). */
export type StreamFn = (input: AsyncIterable<AudioFrame>, ctx: HandlerContext) => AsyncIterable<ReplyChunk>;

export interface StreamOptions {
  /** The rate the handler gets input frames at. Default 16000. */
  inputSampleRate?: number;
  /** Input frame length in ms. Default 20. */
  inputFrameMs?: number;
}

export type Handler =
  | { readonly kind: 'reply-on-pause'; readonly fn: TurnFn; readonly options: Required<Omit<ReplyOnPauseOptions, 'greeting'>> & Pick<ReplyOnPauseOptions, 'greeting'> }
  | { readonly kind: 'stream'; readonly fn: StreamFn; readonly options: Required<StreamOptions> };
