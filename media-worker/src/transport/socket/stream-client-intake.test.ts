import type { ChannelMessage } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';
import { audioFrame } from '../../audio/frame.ts';
import { OpusEncoderStream } from '../../audio/opus.ts';
import type { StreamStart } from './serializer.ts';
import { StreamClientIntake } from './stream-client-intake.ts';

function intake() {
  let t = 0;
  const sent: ChannelMessage[] = [];
  const delivered: ChannelMessage[] = [];
  let abused = 0;
  const i = new StreamClientIntake({ send: (e) => sent.push(e), deliver: (e) => delivered.push(e), onAbuse: () => abused++, now: () => t });
  return { i, sent, delivered, abused: () => abused, advance: (ms: number) => (t += ms) };
}

function start(encoding: 'pcm16le' | 'opus', sampleRate: number): StreamStart {
  return { streamId: 's', callId: '', format: { encoding, sampleRate, channels: 1 }, output: { encoding, sampleRate }, params: {} };
}

describe('StreamClientIntake', () => {
  it('admits real-time audio of the started format and ends a client sending it far faster', () => {
    const c = intake();
    const s = start('pcm16le', 16000);
    // 20 ms of 16 kHz PCM16 every 20 ms for a minute.
    for (let n = 0; n < 3000; n++, c.advance(20)) expect(c.i.admit(new Uint8Array(640), s)).toBe(true);
    // Then four times real time until refused.
    let refused = false;
    for (let n = 0; n < 2000 && !refused; n++, c.advance(5)) refused = !c.i.admit(new Uint8Array(640), s);
    expect(refused).toBe(true);
    expect(c.sent).toEqual([{ type: 'error', code: 'abuse', message: 'audio faster than twice real time' }]);
    expect(c.abused()).toBe(1);
  });

  it('refuses an audio message over 16 KiB', () => {
    const c = intake();
    expect(c.i.admit(new Uint8Array(16_385), start('pcm16le', 48000))).toBe(false);
    expect(c.sent).toEqual([{ type: 'error', code: 'abuse', message: 'audio frame over 16 KiB' }]);
  });

  it('answers a ping and delivers other events; a flood of text is refused before parsing', () => {
    const c = intake();
    c.i.event({ type: 'ping' }, '{"type":"ping"}');
    c.i.event({ type: 'hello' }, '{"type":"hello"}');
    expect(c.sent).toEqual([{ type: 'pong' }]);
    expect(c.delivered).toEqual([{ type: 'hello' }]);
    let admitted = 0;
    for (let n = 0; n < 2000; n++) if (c.i.admit('{"type":"x"}', undefined)) admitted++;
    expect(admitted).toBeGreaterThan(0);
    expect(admitted).toBeLessThan(2000);
    expect(c.sent.some((e) => e.type === 'error')).toBe(true);
  });

  it('decodes Opus only once an Opus stream started; a corrupt packet throws and the stream goes on', () => {
    const c = intake();
    expect(c.i.decodesOpus).toBe(false);
    c.i.started(start('pcm16le', 16000));
    expect(c.i.decodesOpus).toBe(false);
    expect(() => c.i.decode(new Uint8Array([1, 2, 3]))).toThrow(/no Opus stream/);

    const o = intake();
    o.i.started(start('opus', 48000));
    expect(o.i.decodesOpus).toBe(true);
    const packet = new OpusEncoderStream({ sampleRate: 48000 }).encode(audioFrame(new Int16Array(960), 48000, 1));
    expect(o.i.decode(packet).samples.length).toBe(960);
    expect(() => o.i.decode(new Uint8Array([0xff, 0xff, 0xff]))).toThrow();
    expect(o.i.decode(packet).sampleRate).toBe(48000);
  });
});
