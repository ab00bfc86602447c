import { describe, expect, it } from 'vitest';
import { Pcm16Decoder } from './pcm16.ts';

function bytesOf(samples: number[]): Uint8Array {
  const b = Buffer.alloc(samples.length * 2);
  samples.forEach((s, i) => b.writeInt16LE(s, i * 2));
  return new Uint8Array(b);
}

describe('Pcm16Decoder', () => {
  const samples = [0, 1, -1, 32767, -32768, 258, -12345, 4096, -2];
  const all = bytesOf(samples);

  it('decodes whole-sample pieces', () => {
    const d = new Pcm16Decoder();
    expect(Array.from(d.decode(all))).toEqual(samples);
    expect(d.hasPartialSample).toBe(false);
    expect(d.bytesReceived).toBe(all.length);
  });

  it('reassembles samples split at every possible odd boundary', () => {
    for (let cut1 = 0; cut1 <= all.length; cut1++) {
      for (let cut2 = cut1; cut2 <= all.length; cut2++) {
        const d = new Pcm16Decoder();
        const out = [all.subarray(0, cut1), all.subarray(cut1, cut2), all.subarray(cut2)].flatMap((p) => Array.from(d.decode(p)));
        expect(out).toEqual(samples);
        expect(d.hasPartialSample).toBe(false);
      }
    }
  });

  it('keeps a dangling byte across empty pieces and reports it', () => {
    const d = new Pcm16Decoder();
    expect(d.decode(all.subarray(0, 3)).length).toBe(1);
    expect(d.hasPartialSample).toBe(true);
    expect(d.decode(new Uint8Array(0)).length).toBe(0);
    expect(Array.from(d.decode(all.subarray(3, 4)))).toEqual([samples[1]]);
  });

  it('decodes base64', () => {
    const d = new Pcm16Decoder();
    expect(Array.from(d.decodeBase64(Buffer.from(all).toString('base64')))).toEqual(samples);
  });
});
