/**
 * Serializes one Ogg page (RFC 3533 §6) holding whole packets. Packets never span pages here:
 * an Opus packet is at most 61,440 bytes (RFC 6716 §3.2.5: 48 frames of 1,275 bytes plus
 * framing), which fits the 255 lacing values of one page (255 * 255 - 1 = 65,024 bytes).
 */
import { oggCrc32 } from './ogg-crc.ts';

/** Header-type flags (byte 5). */
export const OGG_CONTINUED = 0x01;
export const OGG_BOS = 0x02;
export const OGG_EOS = 0x04;

/** Lacing values per page (one byte of segment count). */
export const MAX_SEGMENTS = 255;
/** Largest packet that fits one page: 254 segments of 255 bytes plus a final segment of 0..254. */
export const MAX_PAGE_PACKET_BYTES = MAX_SEGMENTS * 255 - 1;

const HEADER_BYTES = 27;

/** Lacing values one packet takes: a run of 255s and a terminating value below 255 (0 if needed). */
export function segmentCount(packetBytes: number): number {
  return Math.floor(packetBytes / 255) + 1;
}

export interface OggPageInput {
  /** OR of OGG_BOS / OGG_EOS (OGG_CONTINUED is never needed: packets do not span pages). */
  readonly flags: number;
  /** Granule position; -1 when no packet ends on the page. */
  readonly granule: number;
  readonly serial: number;
  readonly sequence: number;
  readonly packets: readonly Uint8Array[];
}

/** One complete page: header, lacing table, packet bytes, CRC filled in. */
export function buildOggPage(page: OggPageInput): Uint8Array {
  let segments = 0;
  let bodyBytes = 0;
  for (const p of page.packets) {
    segments += segmentCount(p.length);
    bodyBytes += p.length;
  }
  if (segments > MAX_SEGMENTS) throw new RangeError(`Ogg page needs ${segments} lacing values (max ${MAX_SEGMENTS})`);
  const out = new Uint8Array(HEADER_BYTES + segments + bodyBytes);
  const view = new DataView(out.buffer);
  out.set([0x4f, 0x67, 0x67, 0x53], 0); // capture pattern "OggS"
  out[4] = 0; // stream structure version
  out[5] = page.flags;
  view.setBigInt64(6, BigInt(page.granule), true);
  view.setUint32(14, page.serial >>> 0, true);
  view.setUint32(18, page.sequence >>> 0, true);
  // bytes 22..25: CRC, zero while it is computed
  out[26] = segments;
  let lace = HEADER_BYTES;
  let body = HEADER_BYTES + segments;
  for (const p of page.packets) {
    for (let left = p.length; left >= 255; left -= 255) out[lace++] = 255;
    out[lace++] = p.length % 255;
    out.set(p, body);
    body += p.length;
  }
  view.setUint32(22, oggCrc32(out), true);
  return out;
}
