/** What a call says and takes: its states, its events and their listeners, the options of `connect()`. */
import type { ChannelMessage, LegJoinedEvent, LegLeftEvent, PipelineEvent } from '@switchboard/protocol';
import type { SwitchboardError } from './errors.ts';
import type { TokenSource } from './edge.ts';

export type CallState = 'connecting' | 'connected' | 'reconnecting' | 'ended' | 'failed';
/** The worker's answer to `setBot()`: whether the bot (the handler) is in the call now. */
export interface BotEvent {
  type: 'bot';
  active: boolean;
}
/** The events the SDK types: the pipeline's, the legs' (`leg.joined`, `leg.left`) and `bot`. */
export type TypedEvent = PipelineEvent | LegJoinedEvent | LegLeftEvent | BotEvent;
/** An event from the worker: a typed one or one of the handler's own. */
export type CallEvent = TypedEvent | ChannelMessage;

export type PipelineListeners = { [E in TypedEvent as E['type']]: (event: E) => void };
export interface CallListeners extends PipelineListeners {
  /** Every event from the worker, handler events included. */
  event: (event: CallEvent) => void;
  state: (state: CallState) => void;
  /** The connection was lost; a resume attempt starts. */
  reconnecting: (info: { reason: 'liveness' | 'ice'; attempt: number }) => void;
  /** Resumed on a new connection, `afterMs` after the loss was noticed. */
  reconnected: (info: { afterMs: number; resumes: number }) => void;
  /** A problem the call survived (a refused resume attempt, a failed trickle). */
  warning: (error: SwitchboardError) => void;
}

export interface ConnectOptions {
  /** The edge's base URL (default: the page's origin). */
  url?: string;
  /** A client token (`POST /v1/tokens` on your server), or a function returning a fresh one. */
  token?: TokenSource;
  /** The microphone: constraints for getUserMedia (default: echo cancellation, noise suppression), or your own stream. */
  audio?: MediaTrackConstraints | MediaStream;
  /** Where the reply plays (default: a detached <audio> element the call owns). */
  output?: HTMLAudioElement;
  /** 'relay' sends all media through the TURN relay. */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** Resume the session on a new connection when this one is lost (default true). */
  resume?: boolean;
  /** How long connecting may take before `connect_failed` (default 15000 ms). */
  connectTimeoutMs?: number;
  /** Listeners attached before anything happens, so no event is missed. */
  on?: Partial<CallListeners>;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}
