import alawmulaw from 'alawmulaw'; // CommonJS: the named modules hang off the default export

/** G.711 mu-law, the only audio format of a Twilio Media Stream (8 kHz, mono, no header). */
const { mulaw } = alawmulaw;

/** The mu-law byte for digital silence (0 in, 0 out). */
export const MULAW_SILENCE = 0xff;

export function encodeMulaw(pcm: Int16Array): Uint8Array {
  return mulaw.encode(pcm);
}

export function decodeMulaw(bytes: Uint8Array): Int16Array {
  return mulaw.decode(bytes);
}

/** Base64 of mu-law bytes: a media message's `payload`. */
export function mulawToBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Decodes a `payload`; throws on text that is not canonical base64, so a bad server frame is seen. */
export function base64ToMulaw(payload: string): Uint8Array {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(payload)) {
    throw new Error('payload is not base64');
  }
  return new Uint8Array(Buffer.from(payload, 'base64'));
}
