/** PCM16 little-endian framing, independent of the host's byte order. */

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The samples as little-endian bytes, in a fresh buffer (the caller may reuse `samples`). */
export function encodePcm16(samples: Int16Array): Uint8Array {
  const out = new Uint8Array(samples.length * 2);
  if (HOST_LITTLE_ENDIAN) {
    out.set(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength));
  } else {
    const view = new DataView(out.buffer);
    for (let i = 0; i < samples.length; i++) view.setInt16(i * 2, samples[i]!, true);
  }
  return out;
}

/** Little-endian bytes (an even number of them) as samples, in a fresh, aligned array. */
export function decodePcm16(bytes: Uint8Array): Int16Array {
  if (bytes.length % 2 !== 0) throw new RangeError(`PCM16 needs an even number of bytes, got ${bytes.length}`);
  const out = new Int16Array(bytes.length / 2);
  if (HOST_LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true);
  }
  return out;
}
