/**
 * Events for the client sent before it can receive them (the WebRTC `events` channel not open
 * yet, a stream client's `start` not in yet): held in order and delivered when it can, so a
 * handler's first events (a greeting's transcript, say) are not lost to the connection's setup.
 * Bounded: past MAX_HELD events or MAX_HELD_BYTES of JSON, newer ones are dropped and counted.
 */
import type { ChannelMessage } from '@switchboard/protocol';

export const MAX_HELD = 64;
export const MAX_HELD_BYTES = 64 * 1024;

export class PendingEvents {
  #held: ChannelMessage[] = [];
  #bytes = 0;
  /** Events dropped because too many were held. */
  dropped = 0;

  hold(event: ChannelMessage): void {
    const bytes = JSON.stringify(event).length;
    if (this.#held.length >= MAX_HELD || this.#bytes + bytes > MAX_HELD_BYTES) {
      this.dropped++;
      return;
    }
    this.#held.push(event);
    this.#bytes += bytes;
  }

  /** Hands every held event to `send`, in order, and forgets them. */
  flush(send: (event: ChannelMessage) => void): void {
    const held = this.#held;
    this.#held = [];
    this.#bytes = 0;
    for (const e of held) send(e);
  }
}
