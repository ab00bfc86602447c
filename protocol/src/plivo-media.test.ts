import { describe, expect, it } from 'vitest';
import { parsePlivoExtraHeaders, parsePlivoInbound, parsePlivoOutbound } from './plivo-media.ts';

// The examples of Plivo's Stream Event Protocol and Audio Streaming Protocol Reference.
const STREAM = '87654321-4321-4321-4321-cba987654321';
const START = JSON.stringify({
  event: 'start',
  sequenceNumber: 1,
  start: {
    callId: '12345678-1234-1234-1234-123456789abc',
    streamId: STREAM,
    accountId: 'MAXXXXXXXXXXXXXXXXXX',
    tracks: ['inbound'],
    mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000 },
  },
  extra_headers: 'userId=12345;sessionId=abc-xyz',
});
const MEDIA = JSON.stringify({
  event: 'media',
  sequenceNumber: 42,
  streamId: STREAM,
  media: { track: 'inbound', timestamp: '1705312200000', chunk: 41, payload: '//uQxAAAAAANIAAAAAExBTUUzLjEwMFVV' },
  extra_headers: 'userId=12345;sessionId=abc-xyz',
});

describe('Plivo inbound messages', () => {
  it('parses the documented messages', () => {
    const start = parsePlivoInbound(START);
    expect(start.ok && start.value.event === 'start' && start.value.start.streamId).toBe(STREAM);
    expect(start.ok && start.value.event === 'start' && start.value.extra_headers).toBe('userId=12345;sessionId=abc-xyz');
    expect(parsePlivoInbound(MEDIA).ok).toBe(true);
    expect(
      parsePlivoInbound(`{"event":"dtmf","sequenceNumber":7,"streamId":"${STREAM}","dtmf":{"track":"inbound","digit":"5","timestamp":"1"}}`).ok,
    ).toBe(true);
    expect(parsePlivoInbound(`{"event":"playedStream","streamId":"${STREAM}","name":"customer greeting audio"}`)).toEqual({
      ok: true,
      value: { event: 'playedStream', streamId: STREAM, name: 'customer greeting audio' },
    });
    expect(parsePlivoInbound(`{"sequenceNumber":0,"event":"clearedAudio","streamId":"${STREAM}"}`).ok).toBe(true);
  });

  it('refuses what the docs do not describe: string numbers, a missing format, a stop event', () => {
    expect(parsePlivoInbound(START.replace('"sampleRate":8000', '"sampleRate":"8000"')).ok).toBe(false);
    expect(parsePlivoInbound(START.replace('"sequenceNumber":1', '"sequenceNumber":"1"')).ok).toBe(false);
    expect(parsePlivoInbound(MEDIA.replace('"chunk":41', '"chunk":"41"')).ok).toBe(false);
    expect(parsePlivoInbound('{"event":"start","start":{"callId":"c","streamId":"s"}}').ok).toBe(false);
    expect(parsePlivoInbound('{"event":"stop"}').ok).toBe(false);
    expect(parsePlivoInbound('[').ok).toBe(false);
  });
});

describe('Plivo outbound messages', () => {
  it('accepts the documented playAudio, checkpoint and clearAudio', () => {
    expect(
      parsePlivoOutbound('{"event":"playAudio","media":{"contentType":"audio/x-l16","sampleRate":8000,"payload":"AAAA"}}').ok,
    ).toBe(true);
    expect(parsePlivoOutbound(`{"event":"checkpoint","streamId":"${STREAM}","name":"customer greeting audio"}`).ok).toBe(true);
    expect(parsePlivoOutbound(`{"event":"clearAudio","streamId":"${STREAM}"}`).ok).toBe(true);
  });

  it('refuses playAudio without contentType or sampleRate, or with a rate Plivo does not take', () => {
    expect(parsePlivoOutbound('{"event":"playAudio","media":{"payload":"AAAA"}}').ok).toBe(false);
    expect(parsePlivoOutbound('{"event":"playAudio","media":{"contentType":"audio/x-l16","sampleRate":24000,"payload":"AAAA"}}').ok).toBe(false);
    expect(parsePlivoOutbound('{"event":"clearAudio"}').ok).toBe(false);
  });
});

describe('extra_headers', () => {
  it('reads both documented separators and skips what is not a pair', () => {
    expect(parsePlivoExtraHeaders('userId=12345;sessionId=abc-xyz')).toEqual({ userId: '12345', sessionId: 'abc-xyz' });
    expect(parsePlivoExtraHeaders('test1=12,test2=123')).toEqual({ test1: '12', test2: '123' });
    expect(parsePlivoExtraHeaders('{}')).toEqual({});
    expect(parsePlivoExtraHeaders(undefined)).toEqual({});
    expect(parsePlivoExtraHeaders('=x;a=')).toEqual({ a: '' });
    const odd = parsePlivoExtraHeaders('__proto__=1');
    expect(Object.getPrototypeOf(odd)).toBe(Object.prototype);
    expect(Object.keys(odd)).toEqual(['__proto__']);
  });
});
