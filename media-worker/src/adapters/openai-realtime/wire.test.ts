import { describe, expect, it } from 'vitest';
import { decodePcm16, encodePcm16, parseServerEvent } from './wire.ts';

describe('wire', () => {
  it('parses the events it uses, passes over the others, and rejects malformed ones', () => {
    expect(parseServerEvent('{"type":"response.output_audio.delta","response_id":"r","item_id":"i","delta":"AAA="}')).toMatchObject({ ok: true, event: { type: 'response.output_audio.delta', item_id: 'i' } });
    expect(parseServerEvent('{"type":"rate_limits.updated","rate_limits":[]}')).toEqual({ ok: true, event: { type: 'ignored', name: 'rate_limits.updated' } });
    // The beta name is not the GA one: passed over, not misread.
    expect(parseServerEvent('{"type":"response.audio.delta","delta":"AAA="}')).toEqual({ ok: true, event: { type: 'ignored', name: 'response.audio.delta' } });
    const bad = parseServerEvent('{"type":"response.output_audio.delta","response_id":"r","delta":"AAA="}');
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toMatch(/malformed response.output_audio.delta \(item_id/);
    expect(parseServerEvent('not json').ok).toBe(false);
    expect(parseServerEvent('[1]').ok).toBe(false);
  });

  it('PCM16 round-trips little-endian; an odd byte count is refused', () => {
    const s = new Int16Array([0, 1, -1, 32767, -32768]);
    expect(Buffer.from(encodePcm16(s), 'base64')).toEqual(Buffer.from([0, 0, 1, 0, 255, 255, 255, 127, 0, 128]));
    expect(decodePcm16(encodePcm16(s))).toEqual(s);
    expect(decodePcm16(encodePcm16(s.subarray(1, 3)))).toEqual(new Int16Array([1, -1]));
    expect(() => decodePcm16(Buffer.from([1, 2, 3]).toString('base64'))).toThrow(/not whole PCM16 samples/);
  });
});
