/**
 * Abuse limits of the client's `events` data channel: what a client may make the worker parse,
 * keep and hand to the handler. Pure policy, time injected; the transport asks it about every
 * message and acts on the verdict.
 *
 * A message is a violation when it is larger than `maxBytes`, arrives faster than the token
 * bucket allows (`ratePerSec`, burst `burst`), or brings a new `type` once `maxTypes` distinct
 * ones were seen this session. A violating message is dropped: size and rate are checked before
 * the message is parsed, so it is never parsed or kept; the type limit needs the parsed `type`,
 * which a message within the size limit already has.
 *
 * Escalation: the first violation tells the client once (`notify`). Every violation adds a strike;
 * strikes leak away at `strikeDecayPerSec`, and the session ends (`end`) when they exceed
 * `maxStrikes`. With the defaults a flood ends the session after about 50 dropped messages, a client
 * sustaining 60 messages/s (10/s over the rate) after about 6 s, while a client that overshoots a
 * burst now and then never accumulates enough to be cut off.
 */

export interface ChannelLimits {
  /** Largest message accepted, in bytes (UTF-8 for text). */
  maxBytes: number;
  /** Distinct `type`s one session may use. */
  maxTypes: number;
  /** Sustained messages per second (token refill rate). */
  ratePerSec: number;
  /** Messages that may arrive at once (bucket size). */
  burst: number;
  /** Strikes beyond which the session ends. */
  maxStrikes: number;
  /** Strikes forgiven per second of time. */
  strikeDecayPerSec: number;
}

export const DEFAULT_CHANNEL_LIMITS: ChannelLimits = {
  maxBytes: 16 * 1024,
  maxTypes: 64,
  ratePerSec: 50,
  burst: 200,
  maxStrikes: 50,
  strikeDecayPerSec: 1,
};

export type Violation = 'too_large' | 'too_fast' | 'too_many_types';

export type Verdict =
  | { ok: true }
  | {
      ok: false;
      violation: Violation;
      /** Human-readable, for the client's `error` event and the log. */
      message: string;
      /** True for the session's first violation only: send the client one `error` event. */
      notify: boolean;
      /** True once: the abuse went on, end the session with reason 'abuse'. */
      end: boolean;
    };

/** A verdict that drops the message. */
export type Rejection = Extract<Verdict, { ok: false }>;

export class ChannelGuard {
  private readonly limits: ChannelLimits;
  private tokens: number;
  private strikes = 0;
  private lastAt: number;
  private notified = false;
  private ended = false;
  private readonly types = new Set<string>();

  constructor(now: number, limits: Partial<ChannelLimits> = {}) {
    this.limits = { ...DEFAULT_CHANNEL_LIMITS, ...limits };
    this.tokens = this.limits.burst;
    this.lastAt = now;
  }

  /** Distinct types admitted so far. */
  get typeCount(): number {
    return this.types.size;
  }

  /** Before parsing: the message's size and the rate. A message that passes costs one token. */
  admitMessage(bytes: number, now: number): Verdict {
    this.elapse(now);
    if (bytes > this.limits.maxBytes) return this.violate('too_large', `message of ${bytes} bytes exceeds ${this.limits.maxBytes} bytes`);
    if (this.tokens < 1) return this.violate('too_fast', `more than ${this.limits.ratePerSec} messages/s (burst ${this.limits.burst})`);
    this.tokens -= 1;
    return { ok: true };
  }

  /** After parsing: a known type passes; a new one passes while fewer than maxTypes were seen. */
  admitType(type: string): Verdict {
    if (this.types.has(type)) return { ok: true };
    if (this.types.size >= this.limits.maxTypes) return this.violate('too_many_types', `more than ${this.limits.maxTypes} distinct message types`);
    this.types.add(type);
    return { ok: true };
  }

  private elapse(now: number): void {
    const dt = Math.max(0, now - this.lastAt) / 1000;
    this.lastAt = Math.max(this.lastAt, now);
    this.tokens = Math.min(this.limits.burst, this.tokens + dt * this.limits.ratePerSec);
    this.strikes = Math.max(0, this.strikes - dt * this.limits.strikeDecayPerSec);
  }

  private violate(violation: Violation, message: string): Verdict {
    this.strikes += 1;
    const notify = !this.notified;
    this.notified = true;
    const end = !this.ended && this.strikes > this.limits.maxStrikes;
    if (end) this.ended = true;
    return { ok: false, violation, message, notify, end };
  }
}
