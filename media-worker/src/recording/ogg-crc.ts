/**
 * CRC-32 as Ogg defines it (RFC 3533 §6): polynomial 0x04c11db7, MSB-first (not reflected),
 * initial value 0, no final XOR. It differs from zlib's CRC-32 (reflected, 0xffffffff init/XOR),
 * so node:zlib's crc32 cannot be used. Table-driven, one byte per step.
 */
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let bit = 0; bit < 8; bit++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    t[i] = r >>> 0;
  }
  return t;
})();

/** Ogg CRC-32 of `bytes` (unsigned). */
export function oggCrc32(bytes: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < bytes.length; i++) {
    crc = (crc << 8) ^ TABLE[((crc >>> 24) ^ bytes[i]!) & 0xff]!;
  }
  return crc >>> 0;
}
