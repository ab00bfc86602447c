import { decodeRelayBatch } from '@switchboard/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { audioFrame } from '../../audio/frame.ts';
import type { StreamStart, WireMessage } from './serializer.ts';
import { telnyxSerializer } from './serializers/telnyx.ts';
import { twilioSerializer } from './serializers/twilio.ts';
import { BATCH_FRAMES, MIN_HELD_MS, SocketSink } from './socket-sink.ts';

const START: StreamStart = {
  streamId: 'MZ1',
  callId: 'CA1',
  format: { encoding: 'mulaw', sampleRate: 8000, channels: 1 },
  output: { encoding: 'mulaw', sampleRate: 8000 },
  params: {},
};
const frame = () => audioFrame(new Int16Array(160).fill(1000), 8000, 1);
const meta = (seq: number) => ({ seq, rtpTimestamp: seq * 160, marker: seq === 1 });

/** Each socket message (a relay batch, or one text frame) as its frames' events, with the mark names. */
function lines(sent: WireMessage[]): string[][] {
  return sent.map((m) =>
    (m instanceof Uint8Array ? decodeRelayBatch(m) : [m])
      .map((l) => {
        const j = JSON.parse(l) as { event: string; mark?: { name: string } };
        return j.event === 'mark' ? `mark:${j.mark!.name.split('-').pop()}` : j.event;
      }),
  );
}

describe('SocketSink batches a provider\'s frames', () => {
  let sent: WireMessage[];
  let sink: SocketSink;
  beforeEach(() => {
    vi.useFakeTimers();
    sent = [];
    sink = new SocketSink({ sampleRate: 8000, serializer: twilioSerializer, send: (d) => sent.push(d), start: () => START, now: () => Date.now() });
  });
  afterEach(() => vi.useRealTimers());

  it('sends a reply\'s first frames at once, then up to BATCH_FRAMES per message with one mark for the last', () => {
    // The engine fills the far end at up to two frames a tick; then one a tick.
    let seq = 0;
    for (let tick = 0; tick < 60; tick++) {
      sink.send(frame(), meta(++seq));
      if (tick < 10) sink.send(frame(), meta(++seq));
      vi.advanceTimersByTime(20);
    }
    const got = lines(sent);
    // Until the far end holds MIN_HELD_MS, every frame goes out with its own mark.
    const firstBatch = got.findIndex((m) => m.length > 2);
    expect(firstBatch).toBeGreaterThan(0);
    for (const m of got.slice(0, firstBatch)) expect(m).toEqual(['media', expect.stringMatching(/^mark:\d+$/)]);
    expect(firstBatch * 20).toBeGreaterThanOrEqual(MIN_HELD_MS);
    // Then batches: media lines and the last frame's mark.
    for (const m of got.slice(firstBatch)) {
      expect(m.length).toBeLessThanOrEqual(BATCH_FRAMES + 1);
      expect(m.slice(0, -1).every((e) => e === 'media')).toBe(true);
    }
    const marks = got.map((m) => Number(m.at(-1)!.slice(5)));
    const mediaSoFar = got.map((_, i) => got.slice(0, i + 1).flat().filter((e) => e === 'media').length);
    expect(marks).toEqual(mediaSoFar); // each mark names the last frame sent before it
    // In the steady state (a frame a tick, the far end full), one message per BATCH_FRAMES frames.
    const steady = got.filter((m) => m.length === BATCH_FRAMES + 1);
    expect(steady.length).toBeGreaterThanOrEqual(6);
    expect(sink.messages).toBeLessThan(seq / 2);
  });

  it('sends what waits once the far end is down to MIN_HELD_MS, so a reply\'s end is not held back', () => {
    for (let seq = 1; seq <= 12; seq++) sink.send(frame(), meta(seq)); // 240 ms at once: the last ones wait
    const before = lines(sent).flat().filter((e) => e === 'media').length;
    expect(before).toBeLessThan(12);
    vi.advanceTimersByTime(240);
    const all = lines(sent);
    expect(all.flat().filter((e) => e === 'media')).toHaveLength(12);
    expect(all.at(-1)!.at(-1)).toBe('mark:12');
  });

  it('drops what waits on clear() and drop(), and sends the clear', () => {
    for (let seq = 1; seq <= 12; seq++) sink.send(frame(), meta(seq));
    const media = lines(sent).flat().filter((e) => e === 'media').length;
    sink.clear();
    vi.advanceTimersByTime(1000);
    const all = lines(sent);
    expect(all.flat().filter((e) => e === 'media')).toHaveLength(media);
    expect(all.at(-1)).toEqual(['clear']);
    sink.send(frame(), meta(13)); // the far end is empty again: at once
    expect(lines(sent).at(-1)).toEqual(['media', 'mark:13']);
    for (let seq = 14; seq <= 20; seq++) sink.send(frame(), meta(seq));
    sink.drop();
    const count = sent.length;
    vi.advanceTimersByTime(1000);
    expect(sent.length).toBe(count);
  });

  it('sends each batch as one relay batch whose frames are the provider\'s text, a quarter fewer bytes', () => {
    const start16k: StreamStart = { ...START, format: { encoding: 'l16', sampleRate: 16000, channels: 1 }, output: { encoding: 'l16', sampleRate: 16000 } };
    const l16 = new SocketSink({ sampleRate: 16000, serializer: telnyxSerializer, send: (d) => sent.push(d), start: () => start16k, now: () => Date.now() });
    const speech = (seq: number) => audioFrame(Int16Array.from({ length: 320 }, (_, i) => Math.round(8000 * Math.sin((i + seq * 320) / 7))), 16000, 1);
    for (let seq = 1; seq <= 30; seq++) {
      l16.send(speech(seq), meta(seq));
      vi.advanceTimersByTime(20);
    }
    vi.advanceTimersByTime(1000);
    expect(sent.every((m) => m instanceof Uint8Array)).toBe(true);
    const frames = sent.flatMap((m) => decodeRelayBatch(m as Uint8Array));
    const media = frames.filter((f) => f.includes('"media"'));
    // Frame for frame what the serializer writes as text: the provider sees no difference.
    expect(media).toEqual(Array.from({ length: 30 }, (_, i) => telnyxSerializer.encodeMedia(start16k, speech(i + 1))));
    const bytes = sent.reduce((a, m) => a + (m as Uint8Array).byteLength, 0);
    const text = frames.reduce((a, f) => a + f.length + 1, 0);
    expect(bytes / text).toBeLessThan(0.8);
  });

  it('sends binary frames (a stream client\'s Opus) one per message with their own mark', () => {
    const bin = new SocketSink({ sampleRate: 8000, serializer: twilioSerializer, send: (d) => sent.push(d), start: () => START, encode: () => Uint8Array.of(1, 2, 3), now: () => Date.now() });
    for (let seq = 1; seq <= 8; seq++) bin.send(frame(), meta(seq));
    expect(sent).toHaveLength(16);
    expect(sent.filter((m) => m instanceof Uint8Array)).toHaveLength(8);
  });
});
