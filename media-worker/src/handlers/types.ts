import type { ChannelMessage, SessionKind } from '@switchboard/protocol';
import type { AudioFrame } from '../audio/frame.ts';
import type { LegsApi } from '../conference/legs-api.ts';
import type { TransferOptions, TransferResult } from '../conference/transfer.ts';

/** What a handler knows of its session. */
export interface SessionInfo {
  id: string;
  kind: SessionKind;
  /** Phone calls: the provider, its call id, the caller and callee. */
  call?: { provider: 'twilio' | 'telnyx' | 'plivo'; callSid: string; from: string; to: string; direction: 'inbound' | 'outbound' };
  /**
   * True when the conversation started earlier: this worker took the call over from a worker that
   * was lost mid-call, or the client resumed on a new connection. The caller has been greeted
   * already (no greeting is played) and `ctx.state` holds the last checkpoint.
   */
  takeover?: boolean;
}

/** A reply cut short by the caller (barge-in). */
export interface Interruption {
  /** The interrupted reply's turn. */
  turn: number;
  /**
   * How much of the reply the caller heard (ms). Phone calls count what Twilio confirmed playing
   * (its `mark` echoes); WebRTC counts what was sent.
   */
  playedMs: number;
  /** Wall-clock time of the interruption (epoch ms). */
  at: number;
}

export interface HandlerContext {
  readonly session: SessionInfo;
  /**
   * Aborted when the reply is interrupted (barge-in; `signal.reason` is then an InterruptedError
   * saying how much was heard) or the session ends.
   */
  readonly signal: AbortSignal;
  /**
   * The session's latest barge-in, if any: e.g. to truncate a language model's copy of the
   * interrupted reply to what the caller actually heard, when the next turn comes.
   */
  readonly lastInterruption: Interruption | undefined;
  /** Sends an event to the client (WebRTC data channel `events`). */
  send(event: ChannelMessage): void;
  /**
   * The handler's own memory of the session, a JSON object it may change freely (e.g.
   * `ctx.state.turns = Number(ctx.state.turns ?? 0) + 1`). At each turn end (a reply finished or
   * was interrupted; for stream handlers, when they yield `reply.end` or `interrupted`, or call
   * clearPlayback) the pipeline checkpoints it to the edge when its JSON changed, so a call that
   * is resumed or taken over by another worker starts with it. Only JSON survives (no functions,
   * Maps, Dates as objects) and at most 64 KiB of it: a larger state is not checkpointed and the
   * client gets an `error` event.
   */
  readonly state: Record<string, unknown>;
  /** The latest input the client sent, by `type` (e.g. `inputs.get('input')`). */
  readonly inputs: ReadonlyMap<string, ChannelMessage>;
  /**
   * Drops the reply audio queued for playback and returns how many ms of it were played (like
   * FastRTC's `clear_queue`): for stream handlers whose model reports its own barge-in.
   * Reply-on-pause handlers need not call it: the pipeline does on barge-in.
   */
  clearPlayback(): number;
  /**
   * The session's legs: who is in the call (`list()`), `dial(to)` a number in, `hangup(legId)`,
   * `say(legId, audio)` to one leg only, `leave()` the call to its people (the conference keeps
   * bridging them) and `join()` again. While other legs are joined the handler hears everyone
   * mixed and its replies go to every leg.
   */
  readonly legs: LegsApi;
  /**
   * Hands the call to a human: warm (default) dials `to` as a new leg, plays `brief` to them
   * alone, then leaves the caller and the human talking. A failed dial (busy, no answer) resolves
   * `{ok: false, reason, detail}` and the handler carries on with the caller.
   */
  transfer(to: string, options?: TransferOptions): Promise<TransferResult>;
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
  /** Played when the session starts (a WebRTC call connecting, a phone call answered). */
  greeting?: (ctx: HandlerContext) => AsyncIterable<ReplyChunk>;
  /**
   * Called with each event from the client: a data-channel message, or a phone keypress
   * `{type: "dtmf", digit}`. Returning a reply (an async iterable, like a turn's) plays it,
   * interrupting the reply in progress.
   */
  onEvent?: (event: ChannelMessage, ctx: HandlerContext) => AsyncIterable<ReplyChunk> | void;
}

/** Raw duplex: frames in, frames and events out (speech-to-speech models). */
export type StreamFn = (input: AsyncIterable<AudioFrame>, ctx: HandlerContext) => AsyncIterable<ReplyChunk>;

export interface StreamOptions {
  /** The rate the handler gets input frames at. Default 16000. */
  inputSampleRate?: number;
  /** Input frame length in ms. Default 20. */
  inputFrameMs?: number;
  /** Called with each event from the client (data-channel message, phone keypress `{type: "dtmf", digit}`). */
  onEvent?: (event: ChannelMessage, ctx: HandlerContext) => void;
}

export type Handler =
  | {
      readonly kind: 'reply-on-pause';
      readonly fn: TurnFn;
      readonly options: Required<Omit<ReplyOnPauseOptions, 'greeting' | 'onEvent'>> & Pick<ReplyOnPauseOptions, 'greeting' | 'onEvent'>;
    }
  | { readonly kind: 'stream'; readonly fn: StreamFn; readonly options: Required<Omit<StreamOptions, 'onEvent'>> & Pick<StreamOptions, 'onEvent'> };
