/**
 * Decodes a stream of PCM16 little-endian bytes, delivered in arbitrary pieces (each provider
 * message is one base64 payload), into Int16Array samples. A piece may end in the middle of a
 * sample: its odd last byte is carried into the next piece, so the concatenated output equals the
 * decoding of the concatenated input. Shared by the ElevenLabs and Cartesia TTS adapters.
 */
export class Pcm16Decoder {
  /** The low byte of a sample whose high byte has not arrived yet, or -1. */
  #carry = -1;
  /** Bytes decoded so far, carried byte included: the position in the reply's audio. */
  #bytes = 0;

  /** Bytes received so far (a half sample counts as one byte). */
  get bytesReceived(): number {
    return this.#bytes;
  }

  /** Whether a half sample is waiting for its other byte. */
  get hasPartialSample(): boolean {
    return this.#carry >= 0;
  }

  /** The whole samples completed by `bytes` (possibly none). */
  decode(bytes: Uint8Array): Int16Array {
    this.#bytes += bytes.length;
    const total = bytes.length + (this.#carry >= 0 ? 1 : 0);
    const out = new Int16Array(total >> 1);
    let i = 0;
    let o = 0;
    if (this.#carry >= 0 && bytes.length > 0) {
      out[o++] = ((bytes[0]! << 8) | this.#carry) << 16 >> 16;
      i = 1;
      this.#carry = -1;
    }
    for (; i + 1 < bytes.length; i += 2) out[o++] = ((bytes[i + 1]! << 8) | bytes[i]!) << 16 >> 16;
    if (i < bytes.length) this.#carry = bytes[i]!;
    return out;
  }

  /** Decodes one base64 payload (a provider's audio field). */
  decodeBase64(data: string): Int16Array {
    return this.decode(Buffer.from(data, 'base64'));
  }
}
