import { describe, expect, it } from 'vitest';
import { STREAM_MAX_MESSAGE_BYTES, StreamServerMessage, parseStreamClientInbound } from './stream-client.ts';

describe('stream client messages', () => {
  it('parses the documented start, with and without output', () => {
    expect(parseStreamClientInbound('{"type":"start","format":{"encoding":"pcm16","sampleRate":16000}}')).toEqual({
      ok: true,
      value: { kind: 'start', value: { type: 'start', format: { encoding: 'pcm16', sampleRate: 16000 } } },
    });
    const withOutput = parseStreamClientInbound(
      '{"type":"start","format":{"encoding":"opus","sampleRate":48000},"output":{"encoding":"pcm16","sampleRate":24000}}',
    );
    expect(withOutput.ok && withOutput.value.kind === 'start' && withOutput.value.value.output).toEqual({ encoding: 'pcm16', sampleRate: 24000 });
  });

  it('enforces the sample-rate rules and names what is wrong', () => {
    for (const rate of [8000, 16000, 24000, 48000]) {
      expect(parseStreamClientInbound(`{"type":"start","format":{"encoding":"pcm16","sampleRate":${rate}}}`).ok).toBe(true);
    }
    const pcm = parseStreamClientInbound('{"type":"start","format":{"encoding":"pcm16","sampleRate":44100}}');
    expect(!pcm.ok && pcm.error).toMatch(/pcm16 sampleRate must be one of 8000, 16000, 24000, 48000/);
    const opus = parseStreamClientInbound('{"type":"start","format":{"encoding":"opus","sampleRate":16000}}');
    expect(!opus.ok && opus.error).toMatch(/opus sampleRate must be 48000/);
    expect(parseStreamClientInbound('{"type":"start","format":{"encoding":"pcm16","sampleRate":16000},"output":{"encoding":"mp3","sampleRate":16000}}').ok).toBe(false);
    expect(parseStreamClientInbound('{"type":"start","format":{"encoding":"pcm16","samplerate":16000}}').ok).toBe(false);
    expect(parseStreamClientInbound('{"type":"start"}').ok).toBe(false);
  });

  it('a malformed start or mark is an error, never a channel event', () => {
    expect(parseStreamClientInbound('{"type":"mark","name":"m1"}')).toEqual({ ok: true, value: { kind: 'mark', value: { type: 'mark', name: 'm1' } } });
    expect(parseStreamClientInbound('{"type":"mark"}').ok).toBe(false);
    expect(parseStreamClientInbound('{"type":"mark","name":"m","extra":1}').ok).toBe(false);
  });

  it('passes any other typed object through as a channel message, and refuses the rest', () => {
    expect(parseStreamClientInbound('{"type":"input","text":"hi"}')).toEqual({ ok: true, value: { kind: 'event', value: { type: 'input', text: 'hi' } } });
    expect(parseStreamClientInbound('{"type":"ping","t":5}').ok).toBe(true);
    expect(parseStreamClientInbound('{"text":"no type"}').ok).toBe(false);
    expect(parseStreamClientInbound('not json').ok).toBe(false);
    const big = parseStreamClientInbound(JSON.stringify({ type: 'input', text: 'x'.repeat(STREAM_MAX_MESSAGE_BYTES) }));
    expect(!big.ok && big.error).toMatch(/larger than 16384 bytes/);
  });
});

describe('stream server messages', () => {
  it('describes session, started, mark and clear', () => {
    expect(StreamServerMessage.safeParse({ type: 'session', id: 's_1' }).success).toBe(true);
    expect(
      StreamServerMessage.safeParse({
        type: 'started',
        format: { encoding: 'pcm16', sampleRate: 16000 },
        output: { encoding: 'pcm16', sampleRate: 16000 },
      }).success,
    ).toBe(true);
    expect(StreamServerMessage.safeParse({ type: 'started', format: { encoding: 'pcm16', sampleRate: 16000 } }).success).toBe(false);
    expect(StreamServerMessage.safeParse({ type: 'mark', name: 'r1' }).success).toBe(true);
    expect(StreamServerMessage.safeParse({ type: 'clear' }).success).toBe(true);
    expect(StreamServerMessage.safeParse({ type: 'clear', extra: 1 }).success).toBe(false);
  });
});
