import type { ProtocolError } from './errors.ts';
import type { AudioFormat, Pcm16Format, ServerEvent } from './messages.ts';
import type { PlaybackMode } from './player.ts';

/** The public shapes of the stream client. Times (`...Ms`) are ms since `connect()` was called. */

export interface StreamClientOptions {
  /** Sent as `Authorization: Bearer <token>` (a client token or an API key). */
  token?: string;
  /** Caller audio format (the `start` message's `format`). */
  format: Pcm16Format;
  /** Reply audio format; the server's default is `format`. */
  output?: Pcm16Format;
  /** Aborting fails a pending connect, or closes the session (1000, "aborted"). */
  signal?: AbortSignal;
  /** Echo server marks once the audio before them has played (default true). */
  echoMarks?: boolean;
  /** `realtime` (default) plays reply audio on a 20 ms clock; `none` counts it heard on arrival. */
  playback?: PlaybackMode;
  /** Buffered reply audio beyond this is reported as `ahead-of-playback` (default 300: the spec's ~200 ms plus network jitter). */
  maxAheadMs?: number;
}

export interface StartedInfo {
  format: AudioFormat;
  output: AudioFormat;
  atMs: number;
}

export interface CloseInfo {
  code: number;
  reason: string;
  /** The socket error that ended the session, if one did (connection lost, bad frame, ...). */
  error?: Error;
}

export interface MarkRecord {
  name: string;
  receivedAtMs: number;
  /** When playback reached it (everything before it had played); unset while pending or when cleared. */
  playedAtMs?: number;
  /** Whether the echo was sent. */
  echoed: boolean;
  /** Dropped by a `clear` before playback reached it (no echo is due). */
  cleared: boolean;
}

export interface ClearInfo {
  atMs: number;
  droppedSamples: number;
  droppedMs: number;
  /** Names of the marks dropped unechoed. */
  droppedMarks: string[];
}

export interface ReceivedEvent {
  atMs: number;
  event: ServerEvent;
}

export interface StreamStats {
  /** Payload bytes of every frame sent / received (text and binary). */
  bytesSent: number;
  bytesReceived: number;
  audioBytesSent: number;
  audioBytesReceived: number;
  /** Caller audio dropped because `started` had not arrived yet (the server would drop it too). */
  samplesDroppedBeforeStarted: number;
  /** Caller audio dropped because the socket was not open. */
  samplesDroppedClosed: number;
  marksReceived: number;
  marksEchoed: number;
  clears: number;
  /** Reply samples dropped unplayed by `clear`. */
  samplesDroppedByClear: number;
  protocolErrors: number;
}

export type StreamClientEvents = {
  started: (info: StartedInfo) => void;
  /** A reply audio frame as received (before playback). */
  audio: (samples: Int16Array, atMs: number) => void;
  /** A handler or pipeline event (anything but session/started/mark/clear), including the server's `{"type":"error"}`. */
  event: (event: ServerEvent, atMs: number) => void;
  /** Playback reached a mark (and it was echoed, if echoMarks). */
  mark: (mark: MarkRecord) => void;
  clear: (info: ClearInfo) => void;
  /** A server message refused as malformed or out of protocol; the session goes on. */
  error: (error: ProtocolError) => void;
  close: (info: CloseInfo) => void;
};
