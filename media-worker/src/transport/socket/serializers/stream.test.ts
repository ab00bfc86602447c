import { StreamServerMessage } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';
import { audioFrame } from '../../../audio/frame.ts';
import type { StreamStart } from '../serializer.ts';
import { encodeSession, encodeStarted, streamSerializer as s } from './stream.ts';

function startOf(json: string): StreamStart {
  const ev = s.decode(json, undefined);
  if (ev.kind !== 'start') throw new Error(ev.kind);
  return ev.start;
}

const PCM16K = '{"type":"start","format":{"encoding":"pcm16","sampleRate":16000}}';

describe('stream-client serializer', () => {
  it('decodes the documented start; output defaults to the input format', () => {
    expect(startOf(PCM16K)).toEqual({
      streamId: '',
      callId: '',
      format: { encoding: 'pcm16le', sampleRate: 16000, channels: 1 },
      output: { encoding: 'pcm16le', sampleRate: 16000 },
      params: {},
    });
    const opusIn = startOf('{"type":"start","format":{"encoding":"opus","sampleRate":48000},"output":{"encoding":"pcm16","sampleRate":24000}}');
    expect(opusIn.format).toEqual({ encoding: 'opus', sampleRate: 48000, channels: 1 });
    expect(opusIn.output).toEqual({ encoding: 'pcm16le', sampleRate: 24000 });
  });

  it('decodes mark echoes as acks and other typed objects as channel events', () => {
    const st = startOf(PCM16K);
    expect(s.decode('{"type":"mark","name":"r1"}', st)).toEqual({ kind: 'ack', name: 'r1' });
    expect(s.decode('{"type":"input","text":"hi"}', st)).toEqual({ kind: 'event', event: { type: 'input', text: 'hi' } });
    expect(s.decode('{"type":"ping","t":7}', st)).toEqual({ kind: 'event', event: { type: 'ping', t: 7 } });
  });

  it('reads binary pcm16 as little-endian at the start rate, and round-trips it exactly', () => {
    const st = startOf(PCM16K);
    const ev = s.decode(new Uint8Array([0x02, 0x01, 0xfe, 0xff]), st);
    if (ev.kind !== 'audio') throw new Error(ev.kind);
    expect(Array.from(ev.frame.samples)).toEqual([258, -2]);
    expect(ev.frame.sampleRate).toBe(16000);
    const src = Int16Array.from({ length: 320 }, (_, i) => (i * 211 - 30000) % 32768);
    const wire = s.encodeMedia(st, audioFrame(src, 16000));
    expect(wire).toBeInstanceOf(Uint8Array);
    const back = s.decode(wire, st);
    if (back.kind !== 'audio') throw new Error(back.kind);
    expect(Array.from(back.frame.samples)).toEqual(Array.from(src));
  });

  it('builds mark, clear, events, session and started as the stream protocol documents them', () => {
    const st = startOf(PCM16K);
    expect(JSON.parse(s.encodeMark(st, 'r1') as string)).toEqual({ type: 'mark', name: 'r1' });
    expect(JSON.parse(s.encodeClear(st) as string)).toEqual({ type: 'clear' });
    expect(JSON.parse(s.encodeEvent(st, { type: 'reply.start', at: 1, turn: 2 }) as string)).toEqual({ type: 'reply.start', at: 1, turn: 2 });
    expect(JSON.parse(encodeSession('s_abc'))).toEqual({ type: 'session', id: 's_abc' });
    const startedMsg = JSON.parse(encodeStarted(st));
    expect(startedMsg).toEqual({
      type: 'started',
      format: { encoding: 'pcm16', sampleRate: 16000 },
      output: { encoding: 'pcm16', sampleRate: 16000 },
    });
    for (const m of [s.encodeMark(st, 'r1'), s.encodeClear(st), encodeSession('s_abc'), encodeStarted(st)]) {
      expect(StreamServerMessage.safeParse(JSON.parse(m as string)).success).toBe(true);
    }
  });

  it('drops audio before start and refuses odd byte counts, empty and oversized frames', () => {
    expect(s.decode(new Uint8Array(4), undefined)).toEqual({ kind: 'ignored', what: 'audio before start' });
    const st = startOf(PCM16K);
    expect(() => s.decode(new Uint8Array(3), st)).toThrow(/3 bytes is not a whole number of 16-bit samples/);
    expect(() => s.decode(new Uint8Array(0), st)).toThrow(/empty audio frame/);
    expect(() => s.decode(new Uint8Array(16386), st)).toThrow(/larger than 16384/);
  });

  it('leaves opus packets to the transport codec', () => {
    const opus = startOf('{"type":"start","format":{"encoding":"opus","sampleRate":48000}}');
    expect(() => s.decode(new Uint8Array([0xfc, 0xff, 0xfe]), opus)).toThrow(/opus packets are decoded by the transport codec/);
    expect(() => s.encodeMedia(opus, audioFrame(new Int16Array(960), 48000))).toThrow(/opus reply audio is encoded by the transport codec/);
  });

  it('refuses malformed starts and marks with the schema message, and non-objects', () => {
    expect(() => s.decode('{"type":"start","format":{"encoding":"pcm16","sampleRate":44100}}', undefined)).toThrow(
      /pcm16 sampleRate must be one of 8000, 16000, 24000, 48000/,
    );
    expect(() => s.decode('{"type":"mark"}', undefined)).toThrow(/stream mark/);
    expect(() => s.decode('[1]', undefined)).toThrow(/stream message/);
  });

  it('refuses reply frames at another rate than the output', () => {
    const st = startOf(PCM16K);
    expect(() => s.encodeMedia(st, audioFrame(new Int16Array(480), 24000))).toThrow(/expected 16000 Hz mono/);
  });
});
