import { describe, expect, it } from 'vitest';
import { bytesToBase64, decodeRelayBatch, encodeRelayBatch, expandMedia, MAX_RELAY_ITEMS, PAYLOAD_SLOT, type RelayItem } from './relay-batch.ts';

const payload = (n: number, seed = 7) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
const media = (p: Uint8Array): RelayItem => ({ template: JSON.stringify({ event: 'media', streamSid: 'MZ1', media: { payload: PAYLOAD_SLOT } }), payload: p });

describe('relay batches (worker -> Durable Object)', () => {
  it('carries text and media frames in order; media comes out as the provider JSON with base64', () => {
    const p1 = payload(640);
    const p2 = payload(3, 1);
    const mark = JSON.stringify({ event: 'mark', streamSid: 'MZ1', mark: { name: 'sbx-5' } });
    const frames = decodeRelayBatch(encodeRelayBatch([media(p1), media(p2), mark]));
    expect(frames).toHaveLength(3);
    expect(JSON.parse(frames[0]!)).toEqual({ event: 'media', streamSid: 'MZ1', media: { payload: Buffer.from(p1).toString('base64') } });
    expect(JSON.parse(frames[1]!).media.payload).toBe(Buffer.from(p2).toString('base64'));
    expect(frames[2]).toBe(mark);
  });

  it('is smaller than the same frames as text by about the base64 overhead', () => {
    const items = [1, 2, 3, 4, 5].map((s) => media(payload(640, s)));
    const asText = items.map((it) => expandMedia(it as Exclude<RelayItem, string>)).join('\n');
    const batch = encodeRelayBatch(items);
    expect(batch.byteLength / asText.length).toBeLessThan(0.8);
  });

  it('base64 matches Node for every length mod 3, empty and past one chunk', () => {
    for (const n of [0, 1, 2, 3, 160, 8191, 8192, 8193, 20_000]) expect(bytesToBase64(payload(n))).toBe(Buffer.from(payload(n)).toString('base64'));
  });

  it('keeps non-ASCII text intact', () => {
    expect(decodeRelayBatch(encodeRelayBatch(['{"name":"café ☎"}']))).toEqual(['{"name":"café ☎"}']);
  });

  it('refuses what it cannot carry', () => {
    expect(() => encodeRelayBatch([])).toThrow(/1 to 64 frames/);
    expect(() => encodeRelayBatch(Array(MAX_RELAY_ITEMS + 1).fill('x'))).toThrow(/not 65/);
    expect(() => encodeRelayBatch([{ template: '{"payload":""}', payload: payload(4) }])).toThrow(/no <sb:payload>/);
    expect(() => encodeRelayBatch([media(payload(70_000))])).toThrow(/payload of 70000 bytes/);
    expect(() => encodeRelayBatch(['x'.repeat(70_000)])).toThrow(/frame of 70000 bytes/);
  });

  it('refuses a malformed batch with what is wrong', () => {
    const good = encodeRelayBatch([media(payload(10)), 'tail']);
    expect(() => decodeRelayBatch(new Uint8Array(0))).toThrow(/empty message/);
    expect(() => decodeRelayBatch(Uint8Array.of(1))).toThrow(/no frames/);
    expect(() => decodeRelayBatch(Uint8Array.of(2, 0, 0, 0))).toThrow(/version 2/);
    expect(() => decodeRelayBatch(Uint8Array.of(1, 9, 0, 0))).toThrow(/unknown kind 9/);
    // Every cut but the one between the two frames (a shorter, well-formed batch).
    const boundary = encodeRelayBatch([media(payload(10))]).byteLength;
    for (let cut = 2; cut < good.byteLength; cut++) if (cut !== boundary) expect(() => decodeRelayBatch(good.subarray(0, cut))).toThrow(/truncated|no <sb:payload>/);
    expect(() => decodeRelayBatch(Uint8Array.of(1, 0, 0, 2, 0xc3, 0x28))).toThrow(/not UTF-8/);
    // A media frame whose template lost its slot.
    const text = new TextEncoder().encode('{"payload":""}');
    expect(() => decodeRelayBatch(Uint8Array.of(1, 1, 0, text.length, ...text, 0, 1, 9))).toThrow(/no <sb:payload>/);
    const many = new Uint8Array(1 + 3 * (MAX_RELAY_ITEMS + 1));
    many[0] = 1;
    expect(() => decodeRelayBatch(many)).toThrow(/more than 64 frames/);
  });
});
