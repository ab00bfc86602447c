import type { ChannelMessage, SessionKind } from '@switchboard/protocol';
import type { AudioFrame } from '../audio/frame.ts';

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
  /** Queues reply audio (any rate); paced out in real time by the transport. */
  play(frame: AudioFrame): void;
  /** Drops queued reply audio at once (barge-in); returns how many ms of the reply were played. */
  clearPlayback(): number;
  /** The reply's audio is complete: a partial last frame is padded and played, not held back. */
  finishPlayback(): void;
  /** Ms of queued, not yet played audio. */
  queuedMs(): number;
  /** Sends an event to the client, when the transport has a way to (else drops it). */
  sendEvent(event: ChannelMessage): void;
  close(reason: string): void;
}
