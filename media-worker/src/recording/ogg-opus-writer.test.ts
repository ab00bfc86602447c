import { describe, expect, it } from 'vitest';
import { oggCrc32 } from './ogg-crc.ts';
import { OggOpusWriter } from './ogg-opus-writer.ts';
import { buildOggPage } from './ogg-page.ts';
import { readOggOpus, readOggPages } from './ogg-reader.test-helper.ts';

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A recognisable packet: byte i is (seed + i) & 0xff. */
function packet(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (seed + i) & 0xff);
}

describe('oggCrc32', () => {
  it('matches the Ogg CRC check value and a page libogg would accept', () => {
    // Check value of "123456789" for poly 0x04c11db7, init 0, unreflected, no xorout (the bitwise NOT of CRC-32/CKSUM's 0x765e7680).
    expect(oggCrc32(new TextEncoder().encode('123456789'))).toBe(0x89a1897f);
    expect(oggCrc32(new Uint8Array(0))).toBe(0);
  });
});

describe('buildOggPage', () => {
  it('laces a 255-byte packet as 255 then a terminating 0, a 510-byte one as 255, 255, 0', () => {
    const page = buildOggPage({ flags: 0, granule: 960, serial: 7, sequence: 3, packets: [packet(255, 1), packet(510, 2), packet(3, 3)] });
    expect(page[26]).toBe(6);
    expect(Array.from(page.subarray(27, 33))).toEqual([255, 0, 255, 255, 0, 3]);
    const { packets } = readOggPagesAllowingMidStream(page);
    expect(packets.map((p) => p.data.length)).toEqual([255, 510, 3]);
    expect(packets[0]!.data).toEqual(packet(255, 1));
  });

  it('rejects more than 255 lacing values', () => {
    expect(() => buildOggPage({ flags: 0, granule: 0, serial: 1, sequence: 0, packets: [packet(255 * 255, 0)] })).toThrow(/lacing/);
  });
});

/** readOggPages insists on BOS/EOS on a whole stream; wrap a lone page as page 0 with both flags. */
function readOggPagesAllowingMidStream(page: Uint8Array): ReturnType<typeof readOggPages> {
  const copy = page.slice();
  copy[5] = 0x06;
  copy.fill(0, 18, 26); // sequence 0, CRC recomputed below
  new DataView(copy.buffer).setUint32(22, oggCrc32(copy), true);
  return readOggPages(copy);
}

describe('OggOpusWriter', () => {
  it('writes OpusHead and OpusTags pages as RFC 7845 lays them out', () => {
    const w = new OggOpusWriter({ preSkip: 312, inputSampleRate: 16000, serial: 0xdeadbeef, comments: ['TRACK=mix'] });
    const bytes = concat([...w.headers(), ...w.end()]);
    const file = readOggOpus(bytes);
    expect(file.head).toEqual({ version: 1, channels: 1, preSkip: 312, inputSampleRate: 16000, outputGain: 0, mappingFamily: 0 });
    expect(file.vendor).toBe('switchboard-media-worker');
    expect(file.comments).toEqual(['TRACK=mix']);
    expect(file.pages[0]!.serial).toBe(0xdeadbeef);
    expect(file.pages[0]!.flags).toBe(0x02);
    expect(file.audio).toEqual([]);
    expect(file.finalGranule).toBe(0);
  });

  it('uses a random serial by default', () => {
    const serials = new Set(Array.from({ length: 8 }, () => new OggOpusWriter({ preSkip: 0 }).serial));
    expect(serials.size).toBeGreaterThan(1);
  });

  it('pages 1 s of 20 ms packets, granules at packet ends including pre-skip, EOS with end trimming', () => {
    const w = new OggOpusWriter({ preSkip: 312 });
    const chunks: Uint8Array[] = [];
    const pagesAfter: number[] = [];
    for (let i = 0; i < 120; i++) {
      chunks.push(...w.writePacket(packet(80, i), 960));
      pagesAfter.push(chunks.length);
    }
    // Headers come with the first packet; page 2 (the first second) when packet 51 arrives.
    expect(pagesAfter[0]).toBe(2);
    expect(pagesAfter[49]).toBe(2);
    expect(pagesAfter[50]).toBe(3);
    expect(pagesAfter[100]).toBe(4);
    // 120 packets = 115200 samples; trim the end to 2.3 s of playable audio after pre-skip.
    chunks.push(...w.end(312 + 110400));
    const file = readOggOpus(concat(chunks));
    expect(file.pages.map((p) => p.granule)).toEqual([0n, 0n, 48000n, 96000n, 110712n]);
    expect(file.pages.map((p) => p.packetsEnded)).toEqual([1, 1, 50, 50, 20]);
    expect(file.pages.at(-1)!.flags).toBe(0x04);
    expect(file.audio.length).toBe(120);
    expect(file.audio[77]!.data).toEqual(packet(80, 77));
    expect(w.end.bind(w)).toThrow(/ended/);
    expect(() => w.writePacket(packet(1, 0), 960)).toThrow(/ended/);
  });

  it('starts a new page when the 255 lacing values are full', () => {
    // 300 packets of 300 bytes need 2 lacing values each: 127 per page (254 values).
    const w = new OggOpusWriter({ preSkip: 0, pageDurationSamples: 10_000_000 });
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < 300; i++) chunks.push(...w.writePacket(packet(300, i), 120));
    chunks.push(...w.end());
    const file = readOggOpus(concat(chunks));
    const audioPages = file.pages.slice(2);
    expect(audioPages.map((p) => p.packetsEnded)).toEqual([127, 127, 46]);
    expect(audioPages.map((p) => p.lacing.length)).toEqual([254, 254, 92]);
    expect(audioPages.map((p) => p.granule)).toEqual([127n * 120n, 254n * 120n, 300n * 120n]);
    expect(file.audio.every((p, i) => p.data.length === 300 && p.data[0] === (i & 0xff))).toBe(true);
  });

  it('fills exactly 255 lacing values with tiny packets, and packets of exactly 255 bytes', () => {
    const w = new OggOpusWriter({ preSkip: 0, pageDurationSamples: 10_000_000 });
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < 256; i++) chunks.push(...w.writePacket(packet(3, i), 120));
    // 255-byte packets take two lacing values (255, 0): 127 fit one page with one value spare.
    for (let i = 0; i < 128; i++) chunks.push(...w.writePacket(packet(255, i), 120));
    chunks.push(...w.end());
    const file = readOggOpus(concat(chunks));
    const audioPages = file.pages.slice(2);
    expect(audioPages.map((p) => p.lacing.length)).toEqual([255, 1 + 2 * 127, 2]);
    expect(audioPages[1]!.lacing.slice(1, 5)).toEqual([255, 0, 255, 0]);
    expect(file.audio.slice(256).every((p) => p.data.length === 255)).toBe(true);
    expect(file.audio.length).toBe(384);
  });

  it('rejects an end trim outside the last page and bad packets', () => {
    const w = new OggOpusWriter({ preSkip: 312 });
    for (let i = 0; i < 51; i++) w.writePacket(packet(10, i), 960);
    expect(() => w.end(48000)).toThrow(/outside/); // the last page starts at 48000
    expect(() => w.end(49000)).toThrow(/outside/); // beyond the packets
    expect(() => w.writePacket(new Uint8Array(0), 960)).toThrow(/bytes/);
    expect(() => w.writePacket(packet(10, 0), 0)).toThrow(/duration/);
    expect(() => new OggOpusWriter({ preSkip: 70000 })).toThrow(/pre-skip/);
    expect(() => new OggOpusWriter({ preSkip: 0, comments: ['no-equals'] })).toThrow(/KEY=value/);
    expect(w.end(48001).length).toBe(1);
  });
});
