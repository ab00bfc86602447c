/**
 * `ctx.transfer(to, { mode: 'cold' })`: the caller's phone call is redirected by its provider to
 * dial the human (TwiML / TeXML / Plivo XML `<Dial>`) and leaves the session; busy or no answer
 * brings the caller back to the handler, with the reason (the call's provider, the edge's
 * call-transfer.ts). Only a phone leg can go cold.
 *
 * `ctx.transfer(to, { mode: 'warm', brief })`: hands the call to a human. The handler dials the
 * human as a new leg; once they answer, the brief (text said with the offline voice, or audio the
 * handler gives) is played to them alone; then the handler leaves the call, and the conference
 * bridges the caller and the human. A dial that fails (busy, no answer, rejected) returns to the
 * handler with the reason, and the caller never stopped hearing it.
 */
import type { PhoneProvider } from '@switchboard/protocol';
import type { AudioFrame } from '../audio/frame.ts';
import { say } from '../voice/say.ts';
import { LegDialError, type LegsApi } from './legs-api.ts';

export interface TransferOptions {
  mode?: 'warm' | 'cold';
  /** Cold: the phone leg to transfer (default the session's caller). */
  legId?: string;
  /** Warm: what the human hears before the caller is put through (text, or audio). */
  brief?: string | AsyncIterable<AudioFrame>;
  provider?: PhoneProvider;
  from?: string;
  signal?: AbortSignal;
}

export type TransferResult =
  | { ok: true; mode: 'warm' | 'cold'; legId?: string }
  | { ok: false; mode: 'warm' | 'cold'; reason: string; detail?: string };

export async function transfer(legs: LegsApi, to: string, o: TransferOptions = {}): Promise<TransferResult> {
  const mode = o.mode ?? 'warm';
  if (mode === 'cold') {
    const legId = o.legId ?? legs.list().find((l) => l.primary)?.legId ?? '';
    const r = await legs.transferAway(legId, to, o.from ? { from: o.from } : {});
    return r.ok ? { ok: true, mode, legId } : { ok: false, mode, reason: r.reason ?? 'error', ...(r.detail ? { detail: r.detail } : {}) };
  }
  let legId: string;
  try {
    const leg = await legs.dial(to, { ...(o.provider ? { provider: o.provider } : {}), ...(o.from ? { from: o.from } : {}), ...(o.signal ? { signal: o.signal } : {}) });
    legId = leg.legId;
  } catch (err) {
    if (err instanceof LegDialError) return { ok: false, mode, reason: err.reason, ...(err.detail ? { detail: err.detail } : {}) };
    return { ok: false, mode, reason: 'error', detail: err instanceof Error ? err.message : String(err) };
  }
  if (o.brief !== undefined) {
    const audio = typeof o.brief === 'string' ? say(o.brief, o.signal ? { signal: o.signal } : {}) : o.brief;
    const heard = await legs.say(legId, audio, o.signal);
    if (o.signal?.aborted) return { ok: false, mode, reason: 'aborted' };
    if (heard.interrupted && !legs.list().some((l) => l.legId === legId)) return { ok: false, mode, reason: 'hung_up', detail: 'the human hung up during the brief' };
  }
  legs.leave();
  return { ok: true, mode, legId };
}
