import { describe, expect, it } from 'vitest';
import { parseChannelMessage } from './events.ts';
import { parseControlToEdge, parseControlToWorker } from './control.ts';
import { parseTwilioInbound, parseTwilioOutbound } from './twilio-media.ts';
import { parseSessionJob } from './job.ts';

const job = { v: 1, sessionId: `s_${'0'.repeat(32)}`, kind: 'webrtc', createdAt: 1, expiresAt: 2, controlToken: '2.abcdefghijklmnopqrstuv' };

describe('session job', () => {
  it('parses a valid job and refuses unknown fields, bad kinds, bad ids and non-JSON', () => {
    expect(parseSessionJob(JSON.stringify(job))).toEqual(job);
    expect(() => parseSessionJob(JSON.stringify({ ...job, extra: 1 }))).toThrow();
    expect(() => parseSessionJob(JSON.stringify({ ...job, kind: 'fax' }))).toThrow();
    expect(() => parseSessionJob(JSON.stringify({ ...job, sessionId: '../x' }))).toThrow();
    expect(() => parseSessionJob('{')).toThrow(/not JSON/);
  });
});

describe('control channel', () => {
  it('parses each direction and names what is wrong', () => {
    expect(parseControlToEdge('{"type":"answer","sdp":"v=0"}')).toEqual({ ok: true, value: { type: 'answer', sdp: 'v=0' } });
    const bad = parseControlToEdge('{"type":"answer"}');
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toMatch(/sdp/);
    expect(parseControlToEdge('nope')).toEqual({ ok: false, error: 'control message: not JSON' });
    expect(parseControlToWorker('{"type":"hangup","reason":"client_hangup"}').ok).toBe(true);
    expect(parseControlToWorker('{"type":"hangup","reason":"bored"}').ok).toBe(false);
  });
});

describe('Twilio Media Streams', () => {
  const sid = 'MZ' + '1'.repeat(32);
  it('accepts documented inbound frames with string numbers and keeps unknown fields', () => {
    const media = { event: 'media', sequenceNumber: '3', streamSid: sid, media: { track: 'inbound', chunk: '1', timestamp: '5', payload: 'AA==' }, extra: true };
    const r = parseTwilioInbound(JSON.stringify(media));
    expect(r).toEqual({ ok: true, value: media });
    expect(parseTwilioInbound(JSON.stringify({ ...media, sequenceNumber: 3 })).ok).toBe(false);
    expect(parseTwilioInbound(JSON.stringify({ event: 'dtmf', sequenceNumber: '4', streamSid: sid, dtmf: { track: 'inbound_track', digit: '#' } })).ok).toBe(true);
    expect(parseTwilioInbound(JSON.stringify({ event: 'dtmf', sequenceNumber: '4', streamSid: sid, dtmf: { track: 'inbound_track', digit: '10' } })).ok).toBe(false);
  });
  it('accepts only the three outbound messages, exactly', () => {
    expect(parseTwilioOutbound(JSON.stringify({ event: 'clear', streamSid: sid })).ok).toBe(true);
    expect(parseTwilioOutbound(JSON.stringify({ event: 'clear', streamSid: sid, x: 1 })).ok).toBe(false);
    expect(parseTwilioOutbound(JSON.stringify({ event: 'stop', streamSid: sid })).ok).toBe(false);
  });
});

describe('data channel events', () => {
  it('accepts objects with a type, refuses the rest and oversized messages', () => {
    expect(parseChannelMessage('{"type":"input","text":"hi"}')).toEqual({ ok: true, value: { type: 'input', text: 'hi' } });
    expect(parseChannelMessage('[1]').ok).toBe(false);
    expect(parseChannelMessage('{"type":""}').ok).toBe(false);
    expect(parseChannelMessage(JSON.stringify({ type: 'x', pad: 'y'.repeat(20000) })).ok).toBe(false);
  });
});
