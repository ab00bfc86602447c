/**
 * The worker's frames for a phone call's provider, as one binary WebSocket message to the call's
 * Durable Object (a relay batch). Providers take reply audio as base64 inside JSON, a third more
 * bytes than the audio; the worker -> edge hop is the platform's one paid egress (AWS data
 * transfer out), so a media line crosses it as its provider message with the payload left out
 * (PAYLOAD_SLOT) plus the payload's bytes, and the object writes the base64 in. The provider
 * receives the same frames either way.
 *
 * Layout, integers big-endian:
 *   u8 version (1)
 *   then items to the end of the message, each:
 *     u8 kind: 0 a text frame, 1 a media frame
 *     u16 text length, the text (UTF-8): the frame, or for media its template (PAYLOAD_SLOT once)
 *     media only: u16 payload length, the payload bytes
 */

export const RELAY_BATCH_VERSION = 1;
/** Stands for a media frame's payload in its template; a JSON string holds it unescaped. */
export const PAYLOAD_SLOT = '<sb:payload>';
/** Most frames in one batch. */
export const MAX_RELAY_ITEMS = 64;
/** Largest text or payload of one frame (u16 lengths). */
export const MAX_RELAY_FIELD_BYTES = 0xffff;

/** A media frame: its provider message with PAYLOAD_SLOT where the base64 payload goes, and the payload. */
export interface MediaParts {
  template: string;
  payload: Uint8Array;
}

export type RelayItem = string | MediaParts;

const TEXT = 0;
const MEDIA = 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Standard base64 with padding, in any JS runtime (btoa over a binary string, in chunks). */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x2000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x2000));
  return btoa(binary);
}

/**
 * The provider message a media frame stands for: its template with the payload written in as
 * base64 at the last PAYLOAD_SLOT (the payload is every provider message's last field, so a slot
 * inside an earlier value, such as an id, stays text).
 */
export function expandMedia(parts: MediaParts): string {
  const at = parts.template.lastIndexOf(PAYLOAD_SLOT);
  if (at < 0) throw new Error(`relay batch: a media template has no ${PAYLOAD_SLOT}`);
  return parts.template.slice(0, at) + bytesToBase64(parts.payload) + parts.template.slice(at + PAYLOAD_SLOT.length);
}

/** Packs frames into one relay batch. Throws on a batch the layout cannot carry. */
export function encodeRelayBatch(items: readonly RelayItem[]): Uint8Array {
  if (items.length === 0 || items.length > MAX_RELAY_ITEMS) throw new RangeError(`relay batch: 1 to ${MAX_RELAY_ITEMS} frames, not ${items.length}`);
  const texts = items.map((it) => encoder.encode(typeof it === 'string' ? it : it.template));
  let size = 1;
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    const text = texts[i]!;
    if (text.byteLength > MAX_RELAY_FIELD_BYTES) throw new RangeError(`relay batch: a frame of ${text.byteLength} bytes (at most ${MAX_RELAY_FIELD_BYTES})`);
    size += 3 + text.byteLength;
    if (typeof it !== 'string') {
      if (!it.template.includes(PAYLOAD_SLOT)) throw new Error(`relay batch: a media template has no ${PAYLOAD_SLOT}`);
      if (it.payload.byteLength > MAX_RELAY_FIELD_BYTES) throw new RangeError(`relay batch: a payload of ${it.payload.byteLength} bytes (at most ${MAX_RELAY_FIELD_BYTES})`);
      size += 2 + it.payload.byteLength;
    }
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = RELAY_BATCH_VERSION;
  let o = 1;
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    const text = texts[i]!;
    out[o] = typeof it === 'string' ? TEXT : MEDIA;
    view.setUint16(o + 1, text.byteLength);
    out.set(text, o + 3);
    o += 3 + text.byteLength;
    if (typeof it !== 'string') {
      view.setUint16(o, it.payload.byteLength);
      out.set(it.payload, o + 2);
      o += 2 + it.payload.byteLength;
    }
  }
  return out;
}

/**
 * The frames of a relay batch, media expanded to the provider's text. Throws an Error that says
 * what is wrong on anything that is not a well-formed batch (nothing is returned from a bad one).
 */
export function decodeRelayBatch(bytes: Uint8Array): string[] {
  if (bytes.byteLength < 1) throw new Error('relay batch: empty message');
  if (bytes[0] !== RELAY_BATCH_VERSION) throw new Error(`relay batch: version ${bytes[0]}, expected ${RELAY_BATCH_VERSION}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frames: string[] = [];
  let o = 1;
  const field = (what: string): Uint8Array => {
    if (o + 2 > bytes.byteLength) throw new Error(`relay batch: truncated at frame ${frames.length + 1} (${what} length)`);
    const n = view.getUint16(o);
    if (o + 2 + n > bytes.byteLength) throw new Error(`relay batch: truncated at frame ${frames.length + 1} (${what} of ${n} bytes)`);
    const f = bytes.subarray(o + 2, o + 2 + n);
    o += 2 + n;
    return f;
  };
  while (o < bytes.byteLength) {
    if (frames.length === MAX_RELAY_ITEMS) throw new Error(`relay batch: more than ${MAX_RELAY_ITEMS} frames`);
    const kind = bytes[o++];
    if (kind !== TEXT && kind !== MEDIA) throw new Error(`relay batch: frame ${frames.length + 1} has unknown kind ${kind}`);
    let text: string;
    try {
      text = decoder.decode(field('text'));
    } catch (err) {
      if (err instanceof TypeError) throw new Error(`relay batch: frame ${frames.length + 1} is not UTF-8`);
      throw err;
    }
    frames.push(kind === TEXT ? text : expandMedia({ template: text, payload: field('payload') }));
  }
  if (frames.length === 0) throw new Error('relay batch: no frames');
  return frames;
}
