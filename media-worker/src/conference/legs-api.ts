/**
 * What a handler can do with its session's legs (`ctx.legs`): see who is in the call, dial a
 * number in, hang a leg up, speak to one leg only, and leave the call to the people in it (the
 * conference keeps bridging them) or come back. A session that cannot hold legs (a test's
 * transport) gets NO_LEGS: only its caller, and dialling says why not.
 */
import type { PhoneProvider } from '@switchboard/protocol';
import type { AudioFrame } from '../audio/frame.ts';
import type { SegmentResult } from '../audio/playout/types.ts';

export interface LegInfo {
  legId: string;
  kind: 'webrtc' | 'phone' | 'stream';
  /** `dialing` until a dialled leg's callee answers. */
  state: 'dialing' | 'joined';
  /** The session's first caller (its id is the session's). */
  primary: boolean;
  /** A dialled leg's number. */
  to?: string;
}

/** A dial that did not join: `reason` is the edge's (`call_failed`, `client_hangup`...) and `detail` the provider's word (busy, no-answer). */
export class LegDialError extends Error {
  readonly reason: string;
  readonly detail: string | undefined;
  constructor(reason: string, detail?: string) {
    super(`the leg did not join: ${reason}${detail ? ` (${detail})` : ''}`);
    this.name = 'LegDialError';
    this.reason = reason;
    this.detail = detail;
  }
}

export interface DialOptions {
  provider?: PhoneProvider;
  from?: string;
  /** Gives up on the dial (the leg is hung up). */
  signal?: AbortSignal;
}

export interface LegsApi {
  list(): LegInfo[];
  /** Dials `to` into the call; resolves once the callee answered and hears the call, rejects with LegDialError otherwise. */
  dial(to: string, options?: DialOptions): Promise<LegInfo>;
  /** Hangs a leg up (its provider call ended); false if there is no such leg. */
  hangup(legId: string): boolean;
  /** Plays audio to one leg only (nobody else hears it); resolves with what that leg heard. */
  say(legId: string, audio: AsyncIterable<AudioFrame> | Iterable<AudioFrame>, signal?: AbortSignal): Promise<SegmentResult>;
  /**
   * Cold transfer of a phone leg (the caller's by default): its call is redirected by the provider
   * to dial `to`, and leaves the session. Resolves when the dial is over: ok (the human answered;
   * the leg then ends as transferred), or why not (the caller is back on the same leg).
   */
  transferAway(legId: string, to: string, options?: { from?: string }): Promise<{ ok: boolean; reason?: string; detail?: string }>;
  /**
   * Each leg's own audio, tagged with its leg id, as the conference mixes it (at the session's rate,
   * a 20 ms frame per leg per tick while it sends audio); while the caller is alone, the caller's
   * frames as they come. The handler's input stays the mix of everyone. Returns the unsubscribe.
   */
  listen(cb: (legId: string, frame: AudioFrame) => void): () => void;
  /** The legs speaking now (each leg's own VAD, while other legs are joined). */
  speaking(): string[];
  /** The handler leaves the call: it hears nobody and nobody hears it; the legs keep talking to each other. */
  leave(): void;
  /** The handler is back in the call. */
  join(): void;
  /** False while the handler has left. */
  readonly present: boolean;
}

/** The legs of a session that has only its caller and cannot dial (no edge behind it). */
export function noLegs(primary: () => LegInfo, onPrimaryAudio: (cb: (frame: AudioFrame) => void) => () => void = () => () => {}): LegsApi {
  return {
    listen: (cb) => onPrimaryAudio((frame) => cb(primary().legId, frame)),
    speaking: () => [],
    list: () => [primary()],
    dial: () => Promise.reject(new LegDialError('unsupported', 'this session cannot add legs')),
    hangup: () => false,
    transferAway: () => Promise.resolve({ ok: false, reason: 'unsupported', detail: 'this session cannot transfer calls' }),
    say: () => Promise.reject(new Error('this session has no other legs to speak to')),
    leave: () => {},
    join: () => {},
    present: true,
  };
}
