/**
 * Test-side Ogg Opus reader, written independently of the writer: checks every page (capture
 * pattern, version, CRC, one serial, consecutive sequence numbers, BOS only on the first page,
 * EOS only on the last, granules never decreasing) and reassembles packets from the lacing
 * values, including packets continued across pages.
 */
import { oggCrc32 } from './ogg-crc.ts';

export interface OggPage {
  readonly flags: number;
  readonly granule: bigint;
  readonly serial: number;
  readonly sequence: number;
  readonly lacing: readonly number[];
  /** Packets completed on this page. */
  readonly packetsEnded: number;
}

export interface OggPacket {
  readonly data: Uint8Array;
  /** Index of the page on which the packet ends. */
  readonly page: number;
  /** That page's granule position. */
  readonly granule: bigint;
}

export interface OpusHeadInfo {
  readonly version: number;
  readonly channels: number;
  readonly preSkip: number;
  readonly inputSampleRate: number;
  readonly outputGain: number;
  readonly mappingFamily: number;
}

export interface OggOpusFile {
  readonly pages: readonly OggPage[];
  /** Audio packets (after OpusHead and OpusTags). */
  readonly audio: readonly OggPacket[];
  readonly head: OpusHeadInfo;
  readonly vendor: string;
  readonly comments: readonly string[];
  /** Granule of the last page (48 kHz samples, pre-skip included). */
  readonly finalGranule: number;
}

export function readOggPages(bytes: Uint8Array): { pages: OggPage[]; packets: OggPacket[] } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pages: OggPage[] = [];
  const packets: OggPacket[] = [];
  let partial: number[] | null = null;
  let at = 0;
  while (at < bytes.length) {
    if (bytes.length - at < 27) throw new Error(`truncated page header at ${at}`);
    const magic = String.fromCharCode(...bytes.subarray(at, at + 4));
    if (magic !== 'OggS') throw new Error(`bad capture pattern at ${at}: ${JSON.stringify(magic)}`);
    if (bytes[at + 4] !== 0) throw new Error(`bad stream structure version at ${at}`);
    const flags = bytes[at + 5]!;
    const granule = view.getBigInt64(at + 6, true);
    const serial = view.getUint32(at + 14, true);
    const sequence = view.getUint32(at + 18, true);
    const crc = view.getUint32(at + 22, true);
    const nseg = bytes[at + 26]!;
    const lacing = Array.from(bytes.subarray(at + 27, at + 27 + nseg));
    const bodyLen = lacing.reduce((a, b) => a + b, 0);
    const end = at + 27 + nseg + bodyLen;
    if (end > bytes.length) throw new Error(`truncated page ${pages.length}`);
    const copy = bytes.slice(at, end);
    copy.fill(0, 22, 26);
    if (oggCrc32(copy) !== crc) throw new Error(`CRC mismatch on page ${pages.length}`);
    const index = pages.length;
    const first = pages[0];
    if (first && serial !== first.serial) throw new Error(`serial changes on page ${index}`);
    if (sequence !== index) throw new Error(`page ${index} has sequence ${sequence}`);
    if (((flags & 0x02) !== 0) !== (index === 0)) throw new Error(`BOS flag wrong on page ${index}`);
    if ((flags & 0x01) !== 0 !== (partial !== null)) throw new Error(`continued flag wrong on page ${index}`);
    let body = at + 27 + nseg;
    let ended = 0;
    for (const v of lacing) {
      partial ??= [];
      for (let i = 0; i < v; i++) partial.push(bytes[body + i]!);
      body += v;
      if (v < 255) {
        packets.push({ data: Uint8Array.from(partial), page: index, granule });
        partial = null;
        ended++;
      }
    }
    if (ended === 0 && granule !== -1n && nseg > 0) throw new Error(`page ${index} ends no packet but has granule ${granule}`);
    pages.push({ flags, granule, serial, sequence, lacing, packetsEnded: ended });
    at = end;
  }
  pages.forEach((p, i) => {
    if (((p.flags & 0x04) !== 0) !== (i === pages.length - 1)) throw new Error(`EOS flag wrong on page ${i}`);
  });
  if (partial !== null) throw new Error('stream ends inside a packet');
  return { pages, packets };
}

/** Parses a whole Ogg Opus file and checks the RFC 7845 header layout and granule order. */
export function readOggOpus(bytes: Uint8Array): OggOpusFile {
  const { pages, packets } = readOggPages(bytes);
  const [headPkt, tagsPkt] = packets;
  if (!headPkt || !tagsPkt) throw new Error('missing OpusHead/OpusTags');
  if (headPkt.page !== 0 || pages[0]!.packetsEnded !== 1) throw new Error('OpusHead must be alone on page 0');
  if (tagsPkt.page !== 1 || pages[1]!.packetsEnded !== 1 || pages[1]!.granule !== 0n) {
    throw new Error('OpusTags must be alone on page 1 with granule 0');
  }
  const head = parseHead(headPkt.data);
  const { vendor, comments } = parseTags(tagsPkt.data);
  let last = 0n;
  for (const p of pages.slice(2)) {
    if (p.granule === -1n) continue;
    if (p.granule < last) throw new Error('granule positions decrease');
    last = p.granule;
  }
  return { pages, audio: packets.slice(2), head, vendor, comments, finalGranule: Number(pages.at(-1)!.granule) };
}

function parseHead(p: Uint8Array): OpusHeadInfo {
  if (p.length < 19 || new TextDecoder().decode(p.subarray(0, 8)) !== 'OpusHead') throw new Error('bad OpusHead');
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  return {
    version: p[8]!,
    channels: p[9]!,
    preSkip: v.getUint16(10, true),
    inputSampleRate: v.getUint32(12, true),
    outputGain: v.getInt16(16, true),
    mappingFamily: p[18]!,
  };
}

function parseTags(p: Uint8Array): { vendor: string; comments: string[] } {
  const dec = new TextDecoder();
  if (dec.decode(p.subarray(0, 8)) !== 'OpusTags') throw new Error('bad OpusTags');
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  let at = 8;
  const str = (): string => {
    const n = v.getUint32(at, true);
    const s = dec.decode(p.subarray(at + 4, at + 4 + n));
    at += 4 + n;
    return s;
  };
  const vendor = str();
  const count = v.getUint32(at, true);
  at += 4;
  const comments = Array.from({ length: count }, str);
  if (at !== p.length) throw new Error('OpusTags has trailing bytes');
  return { vendor, comments };
}
