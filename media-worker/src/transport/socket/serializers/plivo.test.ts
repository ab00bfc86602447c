import { parsePlivoOutbound } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';
import { audioFrame } from '../../../audio/frame.ts';
import type { StreamStart } from '../serializer.ts';
import { plivoSerializer as s } from './plivo.ts';

// Shapes of the examples in Plivo's Stream Event Protocol and Audio Streaming Protocol Reference.
const STREAM = '87654321-4321-4321-4321-cba987654321';
const CALL = '12345678-1234-1234-1234-123456789abc';
const startJson = (encoding = 'audio/x-mulaw', sampleRate = 8000) =>
  JSON.stringify({
    event: 'start',
    sequenceNumber: 1,
    start: { callId: CALL, streamId: STREAM, accountId: 'MAXXXXXXXXXXXXXXXXXX', tracks: ['inbound'], mediaFormat: { encoding, sampleRate } },
    extra_headers: 'userId=12345;sessionId=abc-xyz',
  });
const mediaJson = (payload: string, track = 'inbound') =>
  JSON.stringify({
    event: 'media',
    sequenceNumber: 42,
    streamId: STREAM,
    media: { track, timestamp: '1705312200000', chunk: 41, payload },
    extra_headers: 'userId=12345;sessionId=abc-xyz',
  });

function startOf(json: string): StreamStart {
  const ev = s.decode(json, undefined);
  if (ev.kind !== 'start') throw new Error(ev.kind);
  return ev.start;
}

function ramp(n: number): Int16Array {
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 389 - 15000) % 32768;
  return out;
}

describe('plivo serializer', () => {
  it('decodes the documented start, with extra_headers as params', () => {
    expect(startOf(startJson())).toEqual({
      streamId: STREAM,
      callId: CALL,
      format: { encoding: 'mulaw', sampleRate: 8000, channels: 1 },
      output: { encoding: 'mulaw', sampleRate: 8000 },
      params: { userId: '12345', sessionId: 'abc-xyz' },
    });
    expect(startOf(startJson('audio/x-l16', 16000)).output).toEqual({ encoding: 'pcm16le', sampleRate: 16000 });
    expect(startOf(startJson('audio/x-l16', 8000)).format.sampleRate).toBe(8000);
  });

  it('decodes dtmf, playedStream and clearedAudio', () => {
    const st = startOf(startJson());
    expect(s.decode(`{"event":"dtmf","sequenceNumber":7,"streamId":"${STREAM}","dtmf":{"track":"inbound","digit":"5","timestamp":"1"}}`, st)).toEqual({
      kind: 'dtmf',
      digit: '5',
    });
    expect(s.decode(`{"event":"playedStream","streamId":"${STREAM}","name":"customer greeting audio"}`, st)).toEqual({
      kind: 'ack',
      name: 'customer greeting audio',
    });
    expect(s.decode(`{"sequenceNumber":0,"event":"clearedAudio","streamId":"${STREAM}"}`, st)).toEqual({ kind: 'cleared' });
  });

  it('round-trips mu-law 8 kHz and L16 at 8 and 16 kHz', () => {
    const mu = startOf(startJson());
    const first = s.encodeMedia(mu, audioFrame(ramp(160), 8000)) as string;
    const heard = s.decode(mediaJson(JSON.parse(first).media.payload), mu);
    if (heard.kind !== 'audio') throw new Error(heard.kind);
    expect(JSON.parse(s.encodeMedia(mu, heard.frame) as string).media.payload).toBe(JSON.parse(first).media.payload);

    for (const rate of [8000, 16000]) {
      const st = startOf(startJson('audio/x-l16', rate));
      const src = ramp(rate / 50);
      const wire = s.encodeMedia(st, audioFrame(src, rate)) as string;
      const back = s.decode(mediaJson(JSON.parse(wire).media.payload), st);
      if (back.kind !== 'audio') throw new Error(back.kind);
      expect(back.frame.sampleRate).toBe(rate);
      expect(Array.from(back.frame.samples)).toEqual(Array.from(src));
    }
  });

  it('reads and writes audio/x-l16 little-endian', () => {
    const st = startOf(startJson('audio/x-l16', 16000));
    const ev = s.decode(mediaJson(Buffer.from([0x02, 0x01, 0xfe, 0xff]).toString('base64')), st);
    if (ev.kind !== 'audio') throw new Error(ev.kind);
    expect(Array.from(ev.frame.samples)).toEqual([258, -2]);
  });

  it('playAudio carries contentType and sampleRate; checkpoint and clearAudio carry the streamId', () => {
    const l16 = startOf(startJson('audio/x-l16', 16000));
    const play = s.encodeMedia(l16, audioFrame(new Int16Array(320), 16000)) as string;
    expect(parsePlivoOutbound(play).ok).toBe(true);
    expect(JSON.parse(play).media).toMatchObject({ contentType: 'audio/x-l16', sampleRate: 16000 });
    const mu = startOf(startJson());
    expect(JSON.parse(s.encodeMedia(mu, audioFrame(new Int16Array(160), 8000)) as string).media).toMatchObject({
      contentType: 'audio/x-mulaw',
      sampleRate: 8000,
    });
    expect(JSON.parse(s.encodeMark(mu, 'r1') as string)).toEqual({ event: 'checkpoint', streamId: STREAM, name: 'r1' });
    expect(JSON.parse(s.encodeClear(mu) as string)).toEqual({ event: 'clearAudio', streamId: STREAM });
    expect(parsePlivoOutbound(s.encodeClear(mu) as string).ok).toBe(true);
    expect(s.encodeEvent(mu, { type: 'vad.start', at: 1 })).toBeNull();
  });

  it('refuses formats Plivo does not stream', () => {
    expect(() => s.decode(startJson('audio/x-mulaw', 16000), undefined)).toThrow(/unsupported mediaFormat audio\/x-mulaw 16000 Hz/);
    expect(() => s.decode(startJson('audio/x-l16', 24000), undefined)).toThrow(/audio\/x-l16 24000 Hz/);
    expect(() => s.decode(startJson('audio/x-alaw'), undefined)).toThrow(/audio\/x-alaw/);
    expect(() => s.decode(startJson('constructor'), undefined)).toThrow(/unsupported mediaFormat constructor/);
  });

  it('refuses bad base64, odd L16 byte counts, media before start and binary frames', () => {
    const st = startOf(startJson('audio/x-l16', 8000));
    // The reference's example payload is elided ("...") and so is not base64.
    expect(() => s.decode(mediaJson('//uQxAAAAAANIAAAAAExBTUUzLjEwMFVV...'), st)).toThrow(/not valid base64/);
    expect(() => s.decode(mediaJson(Buffer.from([1, 2, 3]).toString('base64')), st)).toThrow(/not a whole number of 16-bit samples/);
    expect(() => s.decode(mediaJson('/w=='), undefined)).toThrow(/before the stream's start/);
    expect(() => s.decode(new Uint8Array(2), st)).toThrow(/binary frame/);
    expect(() => s.decode('{"event":"media","media":{}}', st)).toThrow(/Plivo message/);
  });

  it('ignores unknown events (Plivo sends no stop) and the outbound track', () => {
    const st = startOf(startJson());
    expect(s.decode('{"event":"stop"}', st)).toEqual({ kind: 'ignored', what: 'event stop' });
    expect(s.decode(mediaJson('/w==', 'outbound'), st).kind).toBe('ignored');
  });
});
