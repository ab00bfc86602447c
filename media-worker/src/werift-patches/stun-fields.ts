/**
 * The few STUN fields (RFC 5389/8489) the worker's shared UDP socket demultiplexes by, read in
 * place from a datagram: no message object, no copy. Pure functions; werift still parses and
 * answers every STUN message itself.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const HEADER_BYTES = 20;
const MAGIC_COOKIE = 0x2112a442;
const ATTR_USERNAME = 0x0006;
const ATTR_MESSAGE_INTEGRITY = 0x0008;
const INTEGRITY_BYTES = 20;

/** A STUN message's class: the C1/C0 bits of its type (RFC 5389 §6). */
export type StunClass = 'request' | 'indication' | 'success' | 'error';

/**
 * The class of a STUN message, or null when the datagram is not STUN (RFC 7983: DTLS, RTP and
 * RTCP never start with the two zero bits, and STUN carries the magic cookie and a length that
 * covers the rest of the datagram in whole 4-byte words).
 */
export function stunClass(data: Buffer): StunClass | null {
  if (data.length < HEADER_BYTES || (data[0]! & 0xc0) !== 0) return null;
  if (data.readUInt32BE(4) !== MAGIC_COOKIE) return null;
  const length = data.readUInt16BE(2);
  if (length % 4 !== 0 || HEADER_BYTES + length !== data.length) return null;
  const type = data.readUInt16BE(0);
  const c = ((type >> 7) & 0b10) | ((type >> 4) & 0b01);
  return c === 0 ? 'request' : c === 1 ? 'indication' : c === 2 ? 'success' : 'error';
}

/** The 96-bit transaction id as a map key (12 latin1 characters). */
export function transactionKey(data: Buffer): string {
  return data.toString('latin1', 8, HEADER_BYTES);
}

/** Offset and length of the first attribute of `type`, or null; stops at a malformed attribute. */
function findAttribute(data: Buffer, type: number): [offset: number, length: number] | null {
  let at = HEADER_BYTES;
  while (at + 4 <= data.length) {
    const t = data.readUInt16BE(at);
    const len = data.readUInt16BE(at + 2);
    if (at + 4 + len > data.length) return null;
    if (t === type) return [at + 4, len];
    // MESSAGE-INTEGRITY ends what it covers; only FINGERPRINT may follow it, never a USERNAME.
    if (t === ATTR_MESSAGE_INTEGRITY && type !== ATTR_MESSAGE_INTEGRITY) return null;
    at += 4 + ((len + 3) & ~3);
  }
  return null;
}

/**
 * The receiver's part of a binding request's USERNAME (`receiverUfrag:senderUfrag`, RFC 8445
 * §7.2.2): the ICE username fragment of the agent the request is for. Null without one.
 */
export function recipientUfrag(data: Buffer): string | null {
  const attr = findAttribute(data, ATTR_USERNAME);
  if (!attr) return null;
  const [offset, length] = attr;
  const colon = data.indexOf(0x3a, offset);
  if (colon < 0 || colon >= offset + length) return null;
  return data.toString('utf8', offset, colon);
}

/**
 * Whether the message's MESSAGE-INTEGRITY is the HMAC-SHA1 of what precedes it under `password`
 * (ICE's short-term credential, RFC 5389 §15.4): the header's length counts up to the end of
 * that attribute, whatever follows it (FINGERPRINT).
 */
export function integrityValid(data: Buffer, password: string): boolean {
  const attr = findAttribute(data, ATTR_MESSAGE_INTEGRITY);
  if (!attr || attr[1] !== INTEGRITY_BYTES) return false;
  const [valueAt] = attr;
  const covered = valueAt - 4;
  const header = Buffer.from(data.subarray(0, HEADER_BYTES));
  header.writeUInt16BE(covered - HEADER_BYTES + 4 + INTEGRITY_BYTES, 2);
  const mac = createHmac('sha1', password).update(header).update(data.subarray(HEADER_BYTES, covered)).digest();
  return timingSafeEqual(mac, data.subarray(valueAt, valueAt + INTEGRITY_BYTES));
}
