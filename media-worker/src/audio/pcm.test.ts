import { describe, expect, it } from 'vitest';
import { audioFrame, durationMs } from './frame.ts';
import { concatFrames, float32ToInt16, int16ToFloat32, readWav, rms, silence, toMono, upmix, writeWav } from './pcm.ts';

function chunk(id: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.write(id, 0, 'ascii');
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body, body.length & 1 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

describe('pcm helpers', () => {
  it('down-mixes stereo to mono and back', () => {
    const st = audioFrame(Int16Array.of(100, 300, -10, -30, 7, 8), 44100, 2);
    const mono = toMono(st);
    expect(mono.channels).toBe(1);
    expect(mono.sampleRate).toBe(44100);
    expect(Array.from(mono.samples)).toEqual([200, -20, 8]);
    expect(Array.from(upmix(mono, 2).samples)).toEqual([200, 200, -20, -20, 8, 8]);
    expect(toMono(mono)).toBe(mono);
  });

  it('converts int16 <-> float32 with clamping, into a given buffer', () => {
    const f = int16ToFloat32(Int16Array.of(-32768, 0, 16384, 32767));
    expect(f[0]).toBe(-1);
    expect(f[2]).toBe(0.5);
    const out = new Int16Array(4);
    const back = float32ToInt16(Float32Array.of(-2, -1, 0.5, 3), out);
    expect(back).toBe(out);
    expect(Array.from(back)).toEqual([-32768, -32768, 16384, 32767]);
    expect(() => int16ToFloat32(new Int16Array(4), new Float32Array(2))).toThrow(/too small/);
  });

  it('concatenates, makes silence, measures rms', () => {
    const a = audioFrame(Int16Array.of(1, 2), 8000);
    const b = audioFrame(Int16Array.of(3), 8000);
    expect(Array.from(concatFrames([a, b]).samples)).toEqual([1, 2, 3]);
    expect(() => concatFrames([a, audioFrame(Int16Array.of(3), 16000)])).toThrow(/mixed formats/);
    expect(() => concatFrames([])).toThrow();
    const s = silence(22050, 2, 100);
    expect(s.samples.length).toBe(2205 * 2);
    expect(durationMs(s)).toBeCloseTo(100, 5);
    expect(rms(s)).toBe(0);
    expect(rms(audioFrame(Int16Array.of(1000, -1000), 8000))).toBe(1000);
  });

  it('round-trips a WAV file', () => {
    const samples = new Int16Array(2 * 1234);
    for (let i = 0; i < samples.length; i++) samples[i] = (i * 37) % 65536 - 32768;
    const frame = audioFrame(samples, 24000, 2);
    const wav = writeWav(frame);
    expect(wav.length).toBe(44 + samples.length * 2);
    expect(wav.toString('ascii', 0, 4)).toBe('RIFF');
    const back = readWav(wav);
    expect(back.sampleRate).toBe(24000);
    expect(back.channels).toBe(2);
    expect(Array.from(back.samples)).toEqual(Array.from(samples));
  });

  it('reads a WAV with LIST and odd-sized chunks around the data, from an offset buffer', () => {
    const fmt = Buffer.alloc(16);
    fmt.writeUInt16LE(1, 0);
    fmt.writeUInt16LE(1, 2);
    fmt.writeUInt32LE(16000, 4);
    fmt.writeUInt32LE(32000, 8);
    fmt.writeUInt16LE(2, 12);
    fmt.writeUInt16LE(16, 14);
    const list = chunk('LIST', Buffer.from('INFOISFT\x07\x00\x00\x00Lavf60\x00', 'latin1')); // odd-size sub-chunk
    const odd = chunk('junk', Buffer.from('abc')); // 3 bytes + pad byte
    const data = Buffer.alloc(6);
    data.writeInt16LE(-5, 0);
    data.writeInt16LE(12345, 2);
    data.writeInt16LE(-32768, 4);
    const body = Buffer.concat([Buffer.from('WAVE'), chunk('fmt ', fmt), list, odd, chunk('data', data), chunk('LIST', Buffer.alloc(4))]);
    const riff = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), body]);
    riff.writeUInt32LE(body.length, 4);
    // Unaligned view into a larger buffer: the reader must not assume offset 0 or 2-byte alignment.
    const host = new Uint8Array(riff.length + 3);
    host.set(riff, 3);
    const f = readWav(host.subarray(3));
    expect(f.sampleRate).toBe(16000);
    expect(f.channels).toBe(1);
    expect(Array.from(f.samples)).toEqual([-5, 12345, -32768]);
  });

  it('rejects non-WAV and non-PCM16 input', () => {
    expect(() => readWav(Buffer.from('hello world, not a wav'))).toThrow(/RIFF/);
    const wav = writeWav(audioFrame(new Int16Array(4), 8000));
    wav.writeUInt16LE(8, 34); // 8-bit
    expect(() => readWav(wav)).toThrow(/16-bit PCM/);
  });
});
