import { TwilioInbound, TwilioOutbound } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';
import { audioFrame } from '../../audio/frame.ts';
import { decodeTwilio, encodeClear, encodeMark, encodeMedia } from './twilio-serializer.ts';

const SID = 'MZ18ad3ab5a668481ce02b83e7395059f0';

/** Parses JSON text exactly as Twilio sends it, through the protocol schema (as the session does). */
const inbound = (json: string): TwilioInbound => TwilioInbound.parse(JSON.parse(json));

const startJson = (encoding = 'audio/x-mulaw', sampleRate = 8000, channels = 1) => `{
  "event": "start",
  "sequenceNumber": "1",
  "start": {
    "accountSid": "AC0000000000000000000000000000000a",
    "streamSid": "${SID}",
    "callSid": "CA0000000000000000000000000000000b",
    "tracks": ["inbound"],
    "customParameters": {"session": "s-1"},
    "mediaFormat": {"encoding": "${encoding}", "sampleRate": ${sampleRate}, "channels": ${channels}}
  },
  "streamSid": "${SID}"
}`;

const mediaJson = (payload: string) => `{
  "event": "media",
  "sequenceNumber": "3",
  "media": {"track": "inbound", "chunk": "1", "timestamp": "5", "payload": "${payload}"},
  "streamSid": "${SID}"
}`;

function sine(n: number, rate = 8000, hz = 440, amp = 12000): Int16Array {
  const s = new Int16Array(n);
  for (let i = 0; i < n; i++) s[i] = Math.round(amp * Math.sin((2 * Math.PI * hz * i) / rate));
  return s;
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

describe('twilio serializer', () => {
  it('round-trips a sine through mu-law with SNR > 30 dB', () => {
    const src = sine(160);
    const out = encodeMedia(SID, audioFrame(src, 8000));
    if (out.event !== 'media') throw new Error('expected media');
    expect(Buffer.from(out.media.payload, 'base64')).toHaveLength(160); // one byte per sample
    const msg = inbound(mediaJson(out.media.payload));
    const d = decodeTwilio(msg);
    if (d.kind !== 'audio') throw new Error('expected audio');
    expect(d.frame.sampleRate).toBe(8000);
    expect(d.frame.channels).toBe(1);
    expect(d.frame.samples).toHaveLength(160);
    expect(snrDb(src, d.frame.samples)).toBeGreaterThan(30);
  });

  it('decodes messages in Twilio documented JSON format', () => {
    expect(decodeTwilio(inbound('{"event":"connected","protocol":"Call","version":"1.0.0"}'))).toEqual({ kind: 'connected' });
    expect(decodeTwilio(inbound(startJson()))).toEqual({
      kind: 'start',
      streamSid: SID,
      callSid: 'CA0000000000000000000000000000000b',
      accountSid: 'AC0000000000000000000000000000000a',
      customParameters: { session: 's-1' },
      sampleRate: 8000,
      channels: 1,
      encoding: 'audio/x-mulaw',
    });
    // 0xff and 0x7f are mu-law zero; 0x00 is the largest negative value.
    const d = decodeTwilio(inbound(mediaJson(Buffer.from([0xff, 0x7f, 0x00, 0x80]).toString('base64'))), { sampleRate: 8000 });
    if (d.kind !== 'audio') throw new Error('expected audio');
    expect(d.sequenceNumber).toBe(3);
    expect(d.chunk).toBe(1);
    expect(d.timestampMs).toBe(5);
    expect(Array.from(d.frame.samples)).toEqual([0, 0, -32124, 32124]);
    expect(decodeTwilio(inbound(`{"event":"dtmf","streamSid":"${SID}","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"1"}}`))).toEqual({ kind: 'dtmf', digit: '1' });
    expect(decodeTwilio(inbound(`{"event":"mark","sequenceNumber":"4","streamSid":"${SID}","mark":{"name":"my label"}}`))).toEqual({ kind: 'mark', name: 'my label' });
    expect(
      decodeTwilio(inbound(`{"event":"stop","sequenceNumber":"5","streamSid":"${SID}","stop":{"accountSid":"AC1","callSid":"CA1"}}`)),
    ).toEqual({ kind: 'stop' });
  });

  it('uses the rate passed in for media', () => {
    const d = decodeTwilio(inbound(mediaJson('/w==')), { sampleRate: 16000 });
    if (d.kind !== 'audio') throw new Error('expected audio');
    expect(d.frame.sampleRate).toBe(16000);
  });

  it('rejects a start that is not mono mu-law', () => {
    expect(() => decodeTwilio(inbound(startJson('audio/l16')))).toThrow(/unsupported encoding "audio\/l16"/);
    expect(() => decodeTwilio(inbound(startJson('audio/x-mulaw', 8000, 2)))).toThrow(/2 channels/);
  });

  it('rejects empty and non-base64 payloads', () => {
    expect(() => decodeTwilio(inbound(mediaJson('')))).toThrow(/empty payload/);
    for (const bad of ['!!!!', 'abc', 'ab=c', '/w=', 'YWJj ZA==', 'YW-_']) {
      expect(() => decodeTwilio(inbound(mediaJson(bad))), bad).toThrow(/not valid base64/);
    }
  });

  it('encodes media, mark and clear that pass TwilioOutbound', () => {
    const media = encodeMedia(SID, audioFrame(sine(160), 8000));
    expect(TwilioOutbound.parse(media)).toEqual(media);
    expect(TwilioOutbound.parse(encodeMark(SID, '7'))).toEqual({ event: 'mark', streamSid: SID, mark: { name: '7' } });
    expect(TwilioOutbound.parse(encodeClear(SID))).toEqual({ event: 'clear', streamSid: SID });
  });

  it('refuses to encode audio that is not 8 kHz mono, or empty', () => {
    expect(() => encodeMedia(SID, audioFrame(sine(320, 16000), 16000))).toThrow(/8000 Hz mono/);
    expect(() => encodeMedia(SID, audioFrame(new Int16Array(320), 8000, 2))).toThrow(/8000 Hz mono/);
    expect(() => encodeMedia(SID, audioFrame(new Int16Array(0), 8000))).toThrow(/empty/);
  });
});
