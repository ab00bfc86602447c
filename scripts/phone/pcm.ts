import { base64ToMulaw, decodeMulaw, encodeMulaw, mulawToBase64 } from './mulaw.ts';

/**
 * The audio encodings the simulated providers put in media payloads: G.711 mu-law (8 kHz) and
 * 16-bit linear PCM (L16) at the stream's rate, in either byte order (RTP's L16 is big-endian;
 * a raw little-endian PCM payload is the other common reading).
 */
export interface Codec {
  encoding: 'mulaw' | 'l16';
  rate: number;
  /** L16 only: network byte order (big-endian) when true. */
  bigEndian?: boolean;
}

export const MULAW_8K: Codec = { encoding: 'mulaw', rate: 8000 };

/** Samples in one 20 ms frame of `codec`. */
export const frameSamples = (codec: Codec): number => (codec.rate * 20) / 1000;

export function encodePcm(pcm: Int16Array, codec: Codec): Uint8Array {
  if (codec.encoding === 'mulaw') return encodeMulaw(pcm);
  const out = new Uint8Array(pcm.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < pcm.length; i++) view.setInt16(i * 2, pcm[i]!, !codec.bigEndian);
  return out;
}

/** Decodes payload bytes; throws when an L16 payload has an odd number of bytes. */
export function decodePcm(bytes: Uint8Array, codec: Codec): Int16Array {
  if (codec.encoding === 'mulaw') return decodeMulaw(bytes);
  if (bytes.length % 2 !== 0) throw new Error(`L16 payload of ${bytes.length} bytes (not whole 16-bit samples)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Int16Array(bytes.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, !codec.bigEndian);
  return out;
}

/** Base64 text of encoded audio: a media message's payload. */
export const toBase64 = mulawToBase64;
/** Strict base64 decoding (throws on text that is not canonical base64). */
export const fromBase64 = base64ToMulaw;

export function describeCodec(c: Codec): string {
  return c.encoding === 'mulaw' ? `mu-law ${c.rate} Hz` : `L16 ${c.rate} Hz ${c.bigEndian ? 'big' : 'little'}-endian`;
}

/** The parts one after another. */
export function concatPcm(parts: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
