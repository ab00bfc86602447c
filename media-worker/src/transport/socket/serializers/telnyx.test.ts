import { parseTelnyxOutbound } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';
import { audioFrame } from '../../../audio/frame.ts';
import type { StreamStart } from '../serializer.ts';
import { telnyxSerializer as s } from './telnyx.ts';

// Shapes of the example frames in Telnyx's "Stream call media over WebSocket" reference.
const STREAM = '32DE0DEA-53CB-4B21-89A4-9E1819C043BC';
const CALL = 'v2:T02llQxIyaRkhfRKxgAP8nY511EhFLizdvdUKJiSw8d6A9BborherQ';
const startJson = (encoding = 'PCMU', sample_rate = 8000, channels = 1) =>
  JSON.stringify({
    event: 'start',
    sequence_number: '1',
    stream_id: STREAM,
    start: {
      user_id: '3E6F995F-85F7-4705-9741-53B116D28237',
      call_control_id: CALL,
      call_session_id: 'ff55a038-6f5d-11ef-9692-02420aeffb1f',
      from: '+13122010094',
      to: '+13122123456',
      tags: ['TAG1', 'TAG2'],
      client_state: 'aGF2ZSBhIG5pY2UgZGF5ID1d',
      custom_parameters: { customer_id: 'customer_123' },
      media_format: { encoding, sample_rate, channels },
    },
  });
const mediaJson = (payload: string, track = 'inbound') =>
  JSON.stringify({ event: 'media', sequence_number: '4', media: { track, chunk: '2', timestamp: '5', payload }, stream_id: STREAM });

function startOf(json: string): StreamStart {
  const ev = s.decode(json, undefined);
  if (ev.kind !== 'start') throw new Error(ev.kind);
  return ev.start;
}

function ramp(n: number): Int16Array {
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 517 - 20000) % 32768;
  return out;
}

describe('telnyx serializer', () => {
  it('decodes the documented connected and start frames, stream_id from the top level', () => {
    expect(s.decode('{"event":"connected","version":"1.0.0"}', undefined)).toEqual({ kind: 'connected' });
    expect(startOf(startJson())).toEqual({
      streamId: STREAM,
      callId: CALL,
      format: { encoding: 'mulaw', sampleRate: 8000, channels: 1 },
      output: { encoding: 'mulaw', sampleRate: 8000 },
      params: { customer_id: 'customer_123' },
    });
    expect(startOf(startJson('L16', 16000)).format).toEqual({ encoding: 'l16', sampleRate: 16000, channels: 1 });
  });

  it('decodes dtmf, mark echoes, stop, and reports stream errors without ending the stream', () => {
    const st = startOf(startJson());
    expect(s.decode(`{"event":"dtmf","stream_id":"${STREAM}","sequence_number":"5","dtmf":{"digit":"#"}}`, st)).toEqual({ kind: 'dtmf', digit: '#' });
    expect(s.decode(`{"event":"mark","stream_id":"${STREAM}","sequence_number":"6","mark":{"name":"r1"}}`, st)).toEqual({ kind: 'ack', name: 'r1' });
    expect(s.decode(`{"event":"stop","sequence_number":"5","stop":{"user_id":"u","call_control_id":"${CALL}"},"stream_id":"${STREAM}"}`, st)).toEqual({ kind: 'stop' });
    const err = s.decode(
      `{"stream_id":"${STREAM}","event":"error","sequence_number":"6","error":{"title":"rate_limit_reached","code":"100005","detail":"Too many requests"}}`,
      st,
    );
    expect(err).toEqual({ kind: 'ignored', what: 'error 100005 rate_limit_reached: Too many requests' });
  });

  it('round-trips PCMU 8 kHz losslessly after one mu-law pass', () => {
    const st = startOf(startJson());
    const first = s.encodeMedia(st, audioFrame(ramp(160), 8000)) as string;
    expect(parseTelnyxOutbound(first).ok).toBe(true);
    const heard = s.decode(mediaJson(JSON.parse(first).media.payload), st);
    if (heard.kind !== 'audio') throw new Error(heard.kind);
    // mu-law is idempotent after one pass: re-encoding decoded samples gives the same bytes.
    const second = s.encodeMedia(st, heard.frame) as string;
    expect(JSON.parse(second).media.payload).toBe(JSON.parse(first).media.payload);
  });

  it('round-trips L16 16 kHz exactly', () => {
    const st = startOf(startJson('L16', 16000));
    const src = ramp(320);
    const wire = s.encodeMedia(st, audioFrame(src, 16000)) as string;
    const back = s.decode(mediaJson(JSON.parse(wire).media.payload), st);
    if (back.kind !== 'audio') throw new Error(back.kind);
    expect(back.frame.sampleRate).toBe(16000);
    expect(Array.from(back.frame.samples)).toEqual(Array.from(src));
  });

  it('reads and writes L16 big-endian (network byte order)', () => {
    const st = startOf(startJson('L16', 16000));
    // 0x0102 = 258 and 0xFFFE = -2, most significant byte first.
    const ev = s.decode(mediaJson(Buffer.from([0x01, 0x02, 0xff, 0xfe]).toString('base64')), st);
    if (ev.kind !== 'audio') throw new Error(ev.kind);
    expect(Array.from(ev.frame.samples)).toEqual([258, -2]);
    const wire = s.encodeMedia(st, audioFrame(Int16Array.from([258, -2]), 16000)) as string;
    expect(Array.from(Buffer.from(JSON.parse(wire).media.payload, 'base64'))).toEqual([0x01, 0x02, 0xff, 0xfe]);
  });

  it('builds mark and clear as documented, without a stream id, and shows no events', () => {
    const st = startOf(startJson());
    expect(JSON.parse(s.encodeMark(st, 'r1') as string)).toEqual({ event: 'mark', mark: { name: 'r1' } });
    expect(JSON.parse(s.encodeClear(st) as string)).toEqual({ event: 'clear' });
    expect(parseTelnyxOutbound(s.encodeMark(st, 'r1') as string).ok).toBe(true);
    expect(s.encodeEvent(st, { type: 'vad.start', at: 1 })).toBeNull();
  });

  it('refuses unsupported encodings, rates and channel counts', () => {
    expect(() => s.decode(startJson('PCMA'), undefined)).toThrow(/unsupported media_format PCMA 8000 Hz 1 ch/);
    expect(() => s.decode(startJson('OPUS', 16000), undefined)).toThrow(/unsupported media_format OPUS/);
    expect(() => s.decode(startJson('L16', 8000), undefined)).toThrow(/L16 8000 Hz/);
    expect(() => s.decode(startJson('PCMU', 8000, 2), undefined)).toThrow(/2 ch/);
    expect(() => s.decode(startJson('toString'), undefined)).toThrow(/unsupported media_format toString/);
  });

  it('refuses bad base64, odd L16 byte counts, media before start and binary frames', () => {
    const l16 = startOf(startJson('L16', 16000));
    expect(() => s.decode(mediaJson('@@@@'), l16)).toThrow(/not valid base64/);
    expect(() => s.decode(mediaJson(Buffer.from([1, 2, 3]).toString('base64')), l16)).toThrow(/3 bytes is not a whole number of 16-bit samples/);
    expect(() => s.decode(mediaJson('/w=='), undefined)).toThrow(/before the stream's start/);
    expect(() => s.decode(new Uint8Array([1, 2]), l16)).toThrow(/binary frame/);
    expect(() => s.decode('{"event":"start","stream_id":"x"}', undefined)).toThrow(/Telnyx message/);
  });

  it('ignores unknown events and the outbound track', () => {
    const st = startOf(startJson());
    expect(s.decode('{"event":"streaming.future","stream_id":"x"}', st)).toEqual({ kind: 'ignored', what: 'event streaming.future' });
    expect(s.decode(mediaJson('/w==', 'outbound'), st)).toEqual({ kind: 'ignored', what: 'media track outbound' });
  });

  it('refuses reply frames at another rate than the output', () => {
    const st = startOf(startJson('L16', 16000));
    expect(() => s.encodeMedia(st, audioFrame(new Int16Array(160), 8000))).toThrow(/expected 16000 Hz mono/);
  });
});
