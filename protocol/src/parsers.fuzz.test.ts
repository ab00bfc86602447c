import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseControlToEdge, parseControlToWorker } from './control.ts';
import { parseTwilioInbound, parseTwilioOutbound } from './twilio-media.ts';
import { parseChannelMessage } from './events.ts';
import { parseSessionJob } from './job.ts';

/**
 * Property-based fuzzing of every parser that takes text from outside a process: whatever the
 * text, a parser returns a result (or, for the job parser, throws its own Error), never an
 * exception from deeper down, and a value it accepts is of the shape its schema promises.
 */

const sid = `s_${'a'.repeat(32)}`;
/** Valid messages of each parser, mutated by the arbitraries below into near-valid ones. */
const seeds: Record<string, unknown[]> = {
  toWorker: [
    { type: 'session', sessionId: sid, kind: 'webrtc', offer: 'v=0', iceServers: [], iceServersExpiresAt: null, endsAt: 1, resumeToken: 'x'.repeat(16) },
    { type: 'candidates', candidates: [{ mid: '0', candidate: 'candidate:1 1 udp 1 1.2.3.4 5 typ host' }], endOfCandidates: false },
    { type: 'hangup', reason: 'client_hangup' },
    { type: 'offer', offer: 'v=0' },
    { type: 'twilio', message: { event: 'media', streamSid: 'MZ1', media: { payload: 'AA==' } } },
  ],
  toEdge: [
    { type: 'answer', sdp: 'v=0' },
    { type: 'state', state: 'live' },
    { type: 'end', reason: 'abuse', detail: 'x' },
    { type: 'checkpoint', state: '{"turns":1}' },
    { type: 'twilio', messages: [{ event: 'clear', streamSid: 'MZ1' }] },
  ],
  twilio: [
    { event: 'connected', protocol: 'Call', version: '1.0.0' },
    { event: 'start', sequenceNumber: '1', start: { streamSid: 'MZ1', accountSid: 'AC1', callSid: 'CA1', tracks: ['inbound'], customParameters: {}, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } }, streamSid: 'MZ1' },
    { event: 'media', sequenceNumber: '2', media: { track: 'inbound', chunk: '1', timestamp: '5', payload: 'AA==' }, streamSid: 'MZ1' },
    { event: 'stop', streamSid: 'MZ1', stop: { accountSid: 'AC1', callSid: 'CA1' } },
  ],
};

/** Replaces one value somewhere inside `v` (depth-first by index) with `by`. */
function replaceAt(v: unknown, index: number, by: unknown): unknown {
  let n = index;
  const walk = (x: unknown): unknown => {
    if (n-- === 0) return by;
    if (Array.isArray(x)) return x.map(walk);
    if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, val]) => [k, walk(val)]));
    return x;
  };
  return walk(v);
}

const nearValid = (list: unknown[]) =>
  fc
    .tuple(fc.constantFrom(...list), fc.nat({ max: 40 }), fc.jsonValue({ maxDepth: 3 }))
    .map(([seed, at, by]) => JSON.stringify(replaceAt(seed, at, by)));

/** Raw text: arbitrary strings, arbitrary JSON, near-valid messages, and text cut short. */
const text = (list: unknown[]) =>
  fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null'),
    nearValid(list),
    nearValid(list).chain((s) => fc.nat({ max: s.length }).map((cut) => s.slice(0, cut))),
  );

const RUNS = { numRuns: 400 };

describe('parsers never throw, and accept only what their schema allows', () => {
  it('control messages to the worker', () => {
    let accepted = 0;
    fc.assert(
      fc.property(text(seeds['toWorker']!), (s) => {
        const r = parseControlToWorker(s);
        if (r.ok) accepted++;
        else expect(r.error).toMatch(/^control message: /);
      }),
      RUNS,
    );
    // The near-valid inputs reach past the first checks: some mutations keep a message valid.
    expect(accepted).toBeGreaterThan(0);
  });

  it('control messages to the edge', () => {
    let accepted = 0;
    fc.assert(
      fc.property(text(seeds['toEdge']!), (s) => {
        const r = parseControlToEdge(s);
        if (r.ok) {
          accepted++;
          expect(['answer', 'state', 'end', 'checkpoint', 'ice.refresh', 'twilio']).toContain(r.value.type);
        } else expect(r.error).toMatch(/^control message: /);
      }),
      RUNS,
    );
    expect(accepted).toBeGreaterThan(0);
  });

  it('Twilio Media Streams frames, both directions', () => {
    fc.assert(
      fc.property(text(seeds['twilio']!), (s) => {
        const inbound = parseTwilioInbound(s);
        if (inbound.ok) expect(['connected', 'start', 'media', 'dtmf', 'mark', 'stop']).toContain(inbound.value.event);
        const outbound = parseTwilioOutbound(s);
        if (outbound.ok) expect(['media', 'mark', 'clear']).toContain(outbound.value.event);
      }),
      RUNS,
    );
  });

  it('data-channel messages from the client', () => {
    fc.assert(
      fc.property(fc.oneof(text([{ type: 'input', text: 'hi' }]), fc.string({ minLength: 16_000, maxLength: 17_000 })), (s) => {
        const r = parseChannelMessage(s);
        if (r.ok) {
          expect(typeof r.value.type).toBe('string');
          expect(r.value.type.length).toBeGreaterThan(0);
          expect(s.length).toBeLessThanOrEqual(16_384);
        }
      }),
      RUNS,
    );
  });

  it('session jobs: a bad job throws the parser own Error, never anything else', () => {
    const job = { v: 1, sessionId: sid, kind: 'webrtc', createdAt: 1, expiresAt: 2, controlToken: '2.abcdefghijklmnopqrstuv' };
    fc.assert(
      fc.property(text([job]), (s) => {
        try {
          const j = parseSessionJob(s);
          expect(j.v).toBe(1);
        } catch (err) {
          expect(err).toBeInstanceOf(Error);
          expect((err as Error).message.length).toBeGreaterThan(0);
          expect(err).not.toBeInstanceOf(RangeError);
        }
      }),
      RUNS,
    );
  });
});
