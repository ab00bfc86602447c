import { parseTwilioOutbound } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';
import { audioFrame } from '../../../audio/frame.ts';
import type { StreamStart } from '../serializer.ts';
import { twilioSerializer as s } from './twilio.ts';

// Example messages of Twilio's "Media Streams - WebSocket Messages" page.
const SID = 'MZ18ad3ab5a668481ce02b83e7395059f0';
const startJson = (encoding = 'audio/x-mulaw', sampleRate = 8000, channels = 1) =>
  JSON.stringify({
    event: 'start',
    sequenceNumber: '1',
    start: {
      accountSid: 'AC123',
      streamSid: SID,
      callSid: 'CA123',
      tracks: ['inbound'],
      mediaFormat: { encoding, sampleRate, channels },
      customParameters: { FirstName: 'Jane' },
    },
    streamSid: SID,
  });
const mediaJson = (payload: string, track = 'inbound') =>
  JSON.stringify({ event: 'media', sequenceNumber: '3', media: { track, chunk: '1', timestamp: '5', payload }, streamSid: SID });

function sine(n: number, rate = 8000, hz = 440, amp = 12000): Int16Array {
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amp * Math.sin((2 * Math.PI * hz * i) / rate));
  return out;
}

function snrDb(ref: Int16Array, got: Int16Array): number {
  let sig = 0;
  let err = 0;
  for (let i = 0; i < ref.length; i++) {
    sig += ref[i]! ** 2;
    err += (ref[i]! - got[i]!) ** 2;
  }
  return 10 * Math.log10(sig / err);
}

function started(): StreamStart {
  const ev = s.decode(startJson(), undefined);
  if (ev.kind !== 'start') throw new Error('no start');
  return ev.start;
}

describe('twilio serializer', () => {
  it('decodes the documented connected, start, dtmf, mark and stop messages', () => {
    expect(s.decode('{"event":"connected","protocol":"Call","version":"1.0.0"}', undefined)).toEqual({ kind: 'connected' });
    expect(started()).toEqual({
      streamId: SID,
      callId: 'CA123',
      format: { encoding: 'mulaw', sampleRate: 8000, channels: 1 },
      output: { encoding: 'mulaw', sampleRate: 8000 },
      params: { FirstName: 'Jane' },
    });
    const st = started();
    expect(s.decode(`{"event":"dtmf","streamSid":"${SID}","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"1"}}`, st)).toEqual({ kind: 'dtmf', digit: '1' });
    expect(s.decode(`{"event":"mark","sequenceNumber":"4","streamSid":"${SID}","mark":{"name":"my label"}}`, st)).toEqual({ kind: 'ack', name: 'my label' });
    expect(s.decode(`{"event":"stop","sequenceNumber":"5","streamSid":"${SID}","stop":{"accountSid":"AC123","callSid":"CA123"}}`, st)).toEqual({ kind: 'stop' });
  });

  it('round-trips a sine through mu-law with SNR > 30 dB', () => {
    const st = started();
    const src = sine(160);
    const wire = s.encodeMedia(st, audioFrame(src, 8000));
    expect(typeof wire).toBe('string');
    const out = parseTwilioOutbound(wire as string);
    expect(out.ok && out.value.event === 'media' && out.value.streamSid).toBe(SID);
    const payload = JSON.parse(wire as string).media.payload as string;
    const ev = s.decode(mediaJson(payload), st);
    if (ev.kind !== 'audio') throw new Error(ev.kind);
    expect(ev.frame.sampleRate).toBe(8000);
    expect(ev.frame.samples.length).toBe(160);
    expect(snrDb(src, ev.frame.samples)).toBeGreaterThan(30);
  });

  it('builds mark and clear as Twilio documents them, and shows no events', () => {
    const st = started();
    expect(JSON.parse(s.encodeMark(st, 'r1') as string)).toEqual({ event: 'mark', streamSid: SID, mark: { name: 'r1' } });
    expect(JSON.parse(s.encodeClear(st) as string)).toEqual({ event: 'clear', streamSid: SID });
    expect(parseTwilioOutbound(s.encodeClear(st) as string).ok).toBe(true);
    expect(s.encodeEvent(st, { type: 'vad.start', at: 1 })).toBeNull();
  });

  it('refuses formats other than 8 kHz mono mu-law, with a clear message', () => {
    expect(() => s.decode(startJson('audio/x-alaw'), undefined)).toThrow(/unsupported Twilio mediaFormat audio\/x-alaw 8000 Hz 1 ch/);
    expect(() => s.decode(startJson('audio/x-mulaw', 16000), undefined)).toThrow(/16000 Hz/);
    expect(() => s.decode(startJson('audio/x-mulaw', 8000, 2), undefined)).toThrow(/2 ch/);
  });

  it('refuses bad payloads, malformed messages and binary frames', () => {
    const st = started();
    expect(() => s.decode(mediaJson('not base64!'), st)).toThrow(/not valid base64/);
    expect(() => s.decode(mediaJson(''), st)).toThrow(/empty payload/);
    expect(() => s.decode('{"event":"media"}', st)).toThrow(/Twilio message/);
    expect(() => s.decode('nope', st)).toThrow(/not JSON/);
    expect(() => s.decode(new Uint8Array(4), st)).toThrow(/binary frame/);
  });

  it('ignores unknown events and tracks other than the caller', () => {
    expect(s.decode('{"event":"futureThing","streamSid":"x"}', undefined)).toEqual({ kind: 'ignored', what: 'event futureThing' });
    expect(s.decode(mediaJson('/w==', 'outbound'), started()).kind).toBe('ignored');
  });

  it('refuses reply frames that are not 8 kHz mono or are empty', () => {
    const st = started();
    expect(() => s.encodeMedia(st, audioFrame(new Int16Array(320), 16000))).toThrow(/expected 8000 Hz mono/);
    expect(() => s.encodeMedia(st, audioFrame(new Int16Array(320), 8000, 2))).toThrow(/2 ch/);
    expect(() => s.encodeMedia(st, audioFrame(new Int16Array(0), 8000))).toThrow(/empty frame/);
  });
});
