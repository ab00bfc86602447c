/**
 * A client's events, whichever transport carries them (a WebRTC `events` data channel, a stream
 * client's text messages): the abuse limits (channel-guard.ts: size and rate before parsing, the
 * type count after), the liveness probe (`ping` answered with `pong` here, never the handler's
 * input), and delivery of everything else to the pipeline. A violating message is dropped; the
 * client hears of it once (`error`, code `abuse`), and abuse that goes on ends the session.
 */
import type { ChannelMessage } from '@switchboard/protocol';
import { ChannelGuard, type Rejection } from './webrtc/channel-guard.ts';

export interface ClientEventsOptions {
  /** An event to the client. */
  send(event: ChannelMessage): void;
  /** A client event for the pipeline. */
  deliver(event: ChannelMessage): void;
  /** The abuse went on: the transport closes with reason 'abuse'. */
  onAbuse(): void;
  now?: () => number;
}

export class ClientEvents {
  readonly #o: ClientEventsOptions;
  readonly #guard: ChannelGuard;
  readonly #now: () => number;
  /** The client was told of its abuse (once per session, whatever the violation). */
  #notified = false;

  constructor(o: ClientEventsOptions) {
    this.#o = o;
    this.#now = o.now ?? (() => performance.now());
    this.#guard = new ChannelGuard(this.#now());
  }

  /** Before parsing: a message of `bytes` bytes, against the size and rate limits. False: drop it. */
  admit(bytes: number): boolean {
    const v = this.#guard.admitMessage(bytes, this.#now());
    if (v.ok) return true;
    this.reject(v);
    return false;
  }

  /** A parsed event: the type limit, then the probe, then the pipeline. */
  receive(event: ChannelMessage): void {
    const v = this.#guard.admitType(event.type);
    if (!v.ok) return this.reject(v);
    if (event.type === 'ping') return this.#o.send('t' in event ? { type: 'pong', t: event['t'] } : { type: 'pong' });
    this.#o.deliver(event);
  }

  /** A violation outside the message limits (a stream client's audio rate): told once, and it ends the session. */
  violation(message: string): void {
    this.reject({ ok: false, violation: 'too_fast', message, notify: true, end: true });
  }

  /** Another guard's verdict on a client message (a stream client's wire limits): handled like this one's. */
  reject(v: Rejection): void {
    if (v.notify && !this.#notified) {
      this.#notified = true;
      this.#o.send({ type: 'error', code: 'abuse', message: v.message });
    }
    if (v.end) this.#o.onAbuse();
  }
}
