import type { ChannelMessage, SessionKind } from '@switchboard/protocol';
import type { AudioFrame } from '../audio/frame.ts';
import type { PlayoutOutput } from '../audio/playout/types.ts';
import type { LegsApi } from '../conference/legs-api.ts';

/**
 * What the pipeline sees of a call, whatever carries it (WebRTC or a Twilio Media Stream).
 * Transports decode and encode; the pipeline only handles AudioFrames and events.
 */
export interface MediaTransport {
  readonly kind: SessionKind;
  /**
   * Decoded caller audio, as it arrives (any rate; the frame says which). Each `on*` may return
   * a function that removes the listener (the pipeline calls it when it stops, so a stopped
   * pipeline leaves nothing registered on a transport that lives on); implementations that return
   * nothing keep the listener until the transport is dropped.
   */
  onAudio(cb: (frame: AudioFrame) => void): void | (() => void);
  /** Events from the client (data channel, DTMF as `{type: "dtmf", digit}`). */
  onEvent(cb: (event: ChannelMessage) => void): void | (() => void);
  /** Called once when the transport closes, with why (at once if it is already closed). */
  onClose(cb: (reason: string) => void): void | (() => void);
  /**
   * Where reply audio goes: pushed in segments, paced out in real time, each segment's result
   * saying what the caller heard (audio/playout/engine.ts).
   */
  readonly output: PlayoutOutput;
  /** Sends an event to the client, when the transport has a way to (else drops it). */
  sendEvent(event: ChannelMessage): void;
  close(reason: string): void;
  /** The session's legs (the pipeline's view of a session, conference/conference-view.ts); absent: the caller alone. */
  readonly legs?: LegsApi;
}
