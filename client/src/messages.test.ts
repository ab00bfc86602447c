import { describe, expect, it } from 'vitest';
import { markMessage, parseServerText, startMessage } from './messages.ts';
import { decodePcm16, encodePcm16 } from './pcm16.ts';

const codeOf = (text: string) => {
  const r = parseServerText(text);
  return r.ok ? 'ok' : r.error.code;
};

describe('parseServerText', () => {
  it('accepts the spec messages', () => {
    expect(parseServerText('{"type":"session","id":"s_abc"}')).toEqual({ ok: true, message: { type: 'session', id: 's_abc' } });
    const started = '{"type":"started","format":{"encoding":"pcm16","sampleRate":16000},"output":{"encoding":"opus","sampleRate":48000}}';
    expect(parseServerText(started)).toEqual({
      ok: true,
      message: { type: 'started', format: { encoding: 'pcm16', sampleRate: 16000 }, output: { encoding: 'opus', sampleRate: 48000 } },
    });
    expect(parseServerText('{"type":"mark","name":"m1"}')).toEqual({ ok: true, message: { type: 'mark', name: 'm1' } });
    expect(parseServerText('{"type":"clear"}')).toEqual({ ok: true, message: { type: 'clear' } });
    expect(parseServerText('{"type":"vad.start","t":1}')).toEqual({ ok: true, message: { type: 'event', event: { type: 'vad.start', t: 1 } } });
  });

  it('refuses malformed messages with a code and an excerpt', () => {
    expect(codeOf('nope')).toBe('not-json');
    expect(codeOf('[1]')).toBe('bad-message');
    expect(codeOf('null')).toBe('bad-message');
    expect(codeOf('{"type":3}')).toBe('bad-message');
    expect(codeOf('{"type":""}')).toBe('bad-message');
    expect(codeOf('{"type":"session","id":"abc"}')).toBe('bad-session');
    expect(codeOf('{"type":"session"}')).toBe('bad-session');
    expect(codeOf('{"type":"started","format":{"encoding":"pcm16","sampleRate":44100},"output":{"encoding":"pcm16","sampleRate":16000}}')).toBe('bad-started');
    expect(codeOf('{"type":"started","format":{"encoding":"opus","sampleRate":16000},"output":{"encoding":"pcm16","sampleRate":16000}}')).toBe('bad-started');
    expect(codeOf('{"type":"started","format":{"encoding":"pcm16","sampleRate":16000}}')).toBe('bad-started');
    expect(codeOf('{"type":"mark","name":5}')).toBe('bad-mark');
    const r = parseServerText('x'.repeat(500));
    expect(r.ok ? '' : r.error.excerpt).toHaveLength(200);
  });
});

describe('client messages', () => {
  it('start carries output only when given', () => {
    expect(JSON.parse(startMessage({ encoding: 'pcm16', sampleRate: 16000 }))).toEqual({ type: 'start', format: { encoding: 'pcm16', sampleRate: 16000 } });
    expect(JSON.parse(startMessage({ encoding: 'pcm16', sampleRate: 8000 }, { encoding: 'pcm16', sampleRate: 24000 }))).toEqual({
      type: 'start',
      format: { encoding: 'pcm16', sampleRate: 8000 },
      output: { encoding: 'pcm16', sampleRate: 24000 },
    });
    expect(JSON.parse(markMessage('a"b'))).toEqual({ type: 'mark', name: 'a"b' });
  });
});

describe('pcm16', () => {
  it('encodes little-endian and round-trips, also from an unaligned view', () => {
    const bytes = encodePcm16(new Int16Array([1, -2, 0x1234]));
    expect(Array.from(bytes)).toEqual([0x01, 0x00, 0xfe, 0xff, 0x34, 0x12]);
    const padded = new Uint8Array(7);
    padded.set(bytes, 1);
    expect(Array.from(decodePcm16(padded.subarray(1)))).toEqual([1, -2, 0x1234]);
    expect(() => decodePcm16(new Uint8Array(3))).toThrow(RangeError);
  });
});
