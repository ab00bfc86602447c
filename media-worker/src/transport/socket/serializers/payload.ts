/**
 * Audio payload bytes <-> PCM16 samples for the stream encodings, and the base64 decoding of
 * what providers send. Pure functions; every refusal throws an Error that names the provider.
 *
 * - mulaw: G.711 mu-law, one byte a sample.
 * - l16: 16-bit signed linear PCM in network byte order (big-endian), as RTP's L16 (RFC 3551).
 * - pcm16le: 16-bit signed linear PCM, little-endian.
 * - opus: compressed packets; decoding needs a stateful codec, so it is refused here.
 */
import alawmulaw from 'alawmulaw'; // CommonJS: only a default import works under Node's ESM loader
import { audioFrame } from '../../../audio/frame.ts';
import type { InboundEvent, StreamEncoding, StreamStart } from '../serializer.ts';

const { mulaw } = alawmulaw;

// Standard alphabet with padding. Buffer.from(s, 'base64') never fails (it skips bad
// characters), so the text is checked first.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function decodeBase64(text: string, who: string): Uint8Array {
  if (text.length === 0) throw new Error(`${who} media: empty payload`);
  if (!BASE64.test(text)) throw new Error(`${who} media: payload is not valid base64`);
  return Buffer.from(text, 'base64');
}

/** Payload bytes in `encoding` to PCM16 samples. */
export function bytesToSamples(bytes: Uint8Array, encoding: StreamEncoding, who: string): Int16Array {
  switch (encoding) {
    case 'mulaw':
      return mulaw.decode(bytes);
    case 'l16':
    case 'pcm16le': {
      if (bytes.byteLength % 2 !== 0) throw new Error(`${who} media: ${bytes.byteLength} bytes is not a whole number of 16-bit samples`);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const little = encoding === 'pcm16le';
      const out = new Int16Array(bytes.byteLength / 2);
      for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, little);
      return out;
    }
    case 'opus':
      throw new Error(`${who} media: opus packets need a codec, not a serializer`);
  }
}

/** PCM16 samples to payload bytes in `encoding`. */
export function samplesToBytes(samples: Int16Array, encoding: StreamEncoding, who: string): Uint8Array {
  switch (encoding) {
    case 'mulaw':
      return mulaw.encode(samples);
    case 'l16':
    case 'pcm16le': {
      const out = new Uint8Array(samples.length * 2);
      const view = new DataView(out.buffer);
      const little = encoding === 'pcm16le';
      for (let i = 0; i < samples.length; i++) view.setInt16(i * 2, samples[i]!, little);
      return out;
    }
    case 'opus':
      throw new Error(`${who} media: opus packets need a codec, not a serializer`);
  }
}

/**
 * A media message's audio: the caller's track only (with both tracks a provider also streams what
 * the caller hears), its base64 payload decoded in the stream's format.
 */
export function inboundAudio(track: string, payload: string, format: StreamStart['format'], who: string): InboundEvent {
  if (track !== 'inbound') return { kind: 'ignored', what: `media track ${track.slice(0, 20)}` };
  const samples = bytesToSamples(decodeBase64(payload, who), format.encoding, who);
  return { kind: 'audio', frame: audioFrame(samples, format.sampleRate, 1) };
}
