import type { LegJoinedEvent, LegLeftEvent } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';
import { Call } from './call.ts';
import type { BotEvent, CallEvent } from './call-types.ts';
import { SwitchboardError } from './errors.ts';

type Seen = { url: string; method: string; headers: Headers; body: string | null };

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

const SESSION = 'https://edge.example/v1/sessions/s_1';
const LEG = `l_${'a'.repeat(32)}`;

/**
 * A Call (no browser here: no peer connection, no microphone) whose session is `SESSION`, talking
 * to a fetch that records requests and answers from `reply`.
 */
function callWith(reply: (req: Seen) => Response) {
  const seen: Seen[] = [];
  const f = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = { url: String(input), method: init?.method ?? 'GET', headers: new Headers(init?.headers), body: (init?.body as string | undefined) ?? null };
    seen.push(req);
    return reply(req);
  }) as typeof fetch;
  const call = new Call({ url: 'https://edge.example/', token: 'tok', fetch: f, output: {} as HTMLAudioElement });
  call.sessionUrl = SESSION;
  return { call, seen };
}

/** Delivers a data-channel message as the worker would (the call has no peer connection here). */
function deliver(call: Call, msg: unknown): void {
  (call as unknown as { onMessage(data: string, pc: null): void }).onMessage(JSON.stringify(msg), null);
}

describe('Call: phone legs', () => {
  it('addLeg posts the number (and provider) to the session\'s legs with the token, and returns the leg', async () => {
    const { call, seen } = callWith(() => json(201, { legId: LEG, callSid: 'CA1' }));
    expect(await call.addLeg('+15551234567')).toEqual({ legId: LEG, callSid: 'CA1' });
    await call.addLeg('+15551234568', { provider: 'telnyx' });
    expect(seen.map((s) => [s.method, s.url, s.body])).toEqual([
      ['POST', `${SESSION}/legs`, '{"to":"+15551234567"}'],
      ['POST', `${SESSION}/legs`, '{"to":"+15551234568","provider":"telnyx"}'],
    ]);
    expect(seen[0]!.headers.get('Authorization')).toBe('Bearer tok');
    expect(seen[0]!.headers.get('Content-Type')).toBe('application/json');
  });

  it("addLeg: the edge's refusal is a SwitchboardError with its code; a 201 without the ids is bad_response", async () => {
    const refused = callWith(() => json(409, { error: { code: 'too_many_legs', message: 'at most 6 legs' } }));
    const err = await refused.call.addLeg('+15551234567').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SwitchboardError);
    expect(err).toMatchObject({ code: 'too_many_legs', status: 409, message: 'add leg: 409 at most 6 legs' });
    const odd = callWith(() => json(201, { legId: LEG }));
    await expect(odd.call.addLeg('+15551234567')).rejects.toMatchObject({ code: 'bad_response' });
  });

  it("removeLeg deletes the leg and resolves with its status; legs() lists the status's legs (none before one was added)", async () => {
    const legs = [
      { legId: 's_1', kind: 'webrtc', state: 'joined', createdAt: 1 },
      { legId: LEG, kind: 'phone', state: 'left', to: '+15551234567', reason: 'client_hangup', createdAt: 2 },
    ];
    let withLegs = false;
    const { call, seen } = callWith((req) => (req.method === 'DELETE' ? json(200, legs[1]) : json(200, withLegs ? { id: 's_1', state: 'live', legs } : { id: 's_1', state: 'live' })));
    expect(await call.legs()).toEqual([]);
    withLegs = true;
    expect(await call.removeLeg(LEG)).toEqual(legs[1]);
    expect(await call.legs()).toEqual(legs);
    expect(seen.map((s) => [s.method, s.url])).toEqual([
      ['GET', `${SESSION}/status`],
      ['DELETE', `${SESSION}/legs/${LEG}`],
      ['GET', `${SESSION}/status`],
    ]);
  });

  it('before the call has a session, or once it ended, leg requests fail with not_connected and send nothing', async () => {
    const { call, seen } = callWith(() => json(201, {}));
    call.sessionUrl = null;
    await expect(call.addLeg('+15551234567')).rejects.toMatchObject({ code: 'not_connected' });
    call.sessionUrl = SESSION;
    await call.hangup();
    seen.length = 0;
    await expect(call.legs()).rejects.toMatchObject({ code: 'not_connected' });
    await expect(call.removeLeg(LEG)).rejects.toMatchObject({ code: 'not_connected' });
    expect(seen).toEqual([]);
  });

  it('leg.joined, leg.left and bot reach their typed listeners and the event stream; setBot is false without a channel', async () => {
    const { call } = callWith(() => json(200, {}));
    const got: Array<LegJoinedEvent | LegLeftEvent | BotEvent> = [];
    call.on('leg.joined', (e) => got.push(e));
    call.on('leg.left', (e) => got.push(e));
    call.on('bot', (e) => got.push(e));
    const all: CallEvent[] = [];
    call.on('event', (e) => all.push(e));
    const joined = { type: 'leg.joined', legId: LEG, kind: 'phone', at: 10 };
    const left = { type: 'leg.left', legId: LEG, reason: 'phone_hangup', at: 20 };
    for (const m of [joined, { type: 'bot', active: false }, left, { type: 'custom' }]) deliver(call, m);
    expect(got).toEqual([joined, { type: 'bot', active: false }, left]);
    expect(all.map((e) => e.type)).toEqual(['leg.joined', 'bot', 'leg.left', 'custom']);
    expect(call.setBot(false)).toBe(false);
  });
});
