import { describe, expect, it } from 'vitest';
import { parseTelnyxInbound, parseTelnyxOutbound } from './telnyx-media.ts';

// The example frames of Telnyx's "Stream call media over WebSocket" reference, verbatim in shape.
const STREAM = '32DE0DEA-53CB-4B21-89A4-9E1819C043BC';
const CONNECTED = '{"event":"connected","version":"1.0.0"}';
const START = JSON.stringify({
  event: 'start',
  sequence_number: '1',
  stream_id: STREAM,
  start: {
    user_id: '3E6F995F-85F7-4705-9741-53B116D28237',
    call_control_id: 'v2:T02llQxIyaRkhfRKxgAP8nY511EhFLizdvdUKJiSw8d6A9BborherQ',
    call_session_id: 'ff55a038-6f5d-11ef-9692-02420aeffb1f',
    from: '+13122010094',
    to: '+13122123456',
    tags: ['TAG1', 'TAG2'],
    client_state: 'aGF2ZSBhIG5pY2UgZGF5ID1d',
    custom_parameters: { customer_id: 'customer_123' },
    media_format: { encoding: 'PCMU', sample_rate: 8000, channels: 1 },
  },
});
const MEDIA = JSON.stringify({
  event: 'media',
  sequence_number: '4',
  media: { track: 'inbound', chunk: '2', timestamp: '5', payload: 'no+JhoaJjpzSHxAKBgYJ' },
  stream_id: STREAM,
});
const STOP = JSON.stringify({
  event: 'stop',
  sequence_number: '5',
  stop: { user_id: '3E6F995F-85F7-4705-9741-53B116D28237', call_control_id: 'v2:T02llQ' },
  stream_id: STREAM,
});
const ERROR = JSON.stringify({
  stream_id: STREAM,
  event: 'error',
  sequence_number: '6',
  error: { title: 'rate_limit_reached', code: '100005', detail: 'Too many requests' },
});

describe('Telnyx inbound frames', () => {
  it('parses the documented frames, reading stream_id at the top level', () => {
    expect(parseTelnyxInbound(CONNECTED)).toEqual({ ok: true, value: { event: 'connected', version: '1.0.0' } });
    const start = parseTelnyxInbound(START);
    expect(start.ok && start.value.event === 'start' && start.value.stream_id).toBe(STREAM);
    expect(start.ok && start.value.event === 'start' && start.value.start.custom_parameters).toEqual({ customer_id: 'customer_123' });
    const media = parseTelnyxInbound(MEDIA);
    expect(media.ok && media.value.event === 'media' && media.value.media.payload).toBe('no+JhoaJjpzSHxAKBgYJ');
    expect(parseTelnyxInbound(STOP).ok).toBe(true);
    expect(parseTelnyxInbound(ERROR).ok).toBe(true);
    expect(parseTelnyxInbound('{"event":"dtmf","stream_id":"s","dtmf":{"digit":"#"}}').ok).toBe(true);
    expect(parseTelnyxInbound('{"event":"mark","stream_id":"s","mark":{"name":"m1"}}').ok).toBe(true);
  });

  it('keeps fields Telnyx adds and defaults absent custom parameters', () => {
    const r = parseTelnyxInbound(START.replace('"start":{', '"future":1,"start":{"more":true,').replace(/"custom_parameters":\{[^}]*\},/, ''));
    expect(r.ok).toBe(true);
    if (r.ok && r.value.event === 'start') {
      expect((r.value as Record<string, unknown>)['future']).toBe(1);
      expect(r.value.start.custom_parameters).toEqual({});
    }
  });

  it('refuses frames missing what Switchboard reads, and non-JSON', () => {
    expect(parseTelnyxInbound(START.replace(`"stream_id":"${STREAM}",`, '')).ok).toBe(false);
    expect(parseTelnyxInbound(START.replace('"sample_rate":8000', '"sample_rate":"8000"')).ok).toBe(false);
    expect(parseTelnyxInbound('{"event":"media","media":{"track":"inbound"}}').ok).toBe(false);
    expect(parseTelnyxInbound('{"event":"dtmf","dtmf":{"digit":"12"}}').ok).toBe(false);
    expect(parseTelnyxInbound('{"event":"media","sequence_number":4,"media":{"track":"inbound","payload":""}}').ok).toBe(false);
    expect(parseTelnyxInbound('nope')).toEqual({ ok: false, error: 'Telnyx message: not JSON' });
  });
});

describe('Telnyx outbound frames', () => {
  it('accepts exactly media, mark and clear, without a stream id', () => {
    expect(parseTelnyxOutbound('{"event":"media","media":{"payload":"AAAA"}}').ok).toBe(true);
    expect(parseTelnyxOutbound('{"event":"mark","mark":{"name":"r1"}}').ok).toBe(true);
    expect(parseTelnyxOutbound('{"event":"clear"}').ok).toBe(true);
    expect(parseTelnyxOutbound('{"event":"clear","stream_id":"s"}').ok).toBe(false);
    expect(parseTelnyxOutbound('{"event":"media","media":{"payload":""}}').ok).toBe(false);
    expect(parseTelnyxOutbound('{"event":"stop"}').ok).toBe(false);
  });
});
