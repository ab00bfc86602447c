import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';

/** A minimal STUN/TURN client over UDP, for readiness probes and credential checks in tests. */

/**
 * Sends one STUN Binding request (RFC 5389) over UDP; true if a Binding success response with the
 * same transaction id comes back within `timeoutMs`.
 */
export function stunBinding(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const txid = randomBytes(12);
    const req = Buffer.alloc(20);
    req.writeUInt16BE(0x0001, 0); // Binding request
    req.writeUInt16BE(0, 2); // no attributes
    req.writeUInt32BE(0x2112a442, 4); // magic cookie
    txid.copy(req, 8);
    let settled = false;
    const done = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('error', () => done(false));
    sock.on('message', (msg) => {
      if (msg.length >= 20 && msg.readUInt16BE(0) === 0x0101 && msg.subarray(8, 20).equals(txid)) done(true);
    });
    sock.send(req, port, host, (err) => err && done(false));
  });
}

/** A port free for both TCP and UDP on `host` a moment ago (coturn listens on both). */
export type TurnAllocation =
  | { ok: true; relayed: { ip: string; port: number }; mapped: { ip: string; port: number } | null }
  | { ok: false; code: number; reason: string };

/**
 * One TURN Allocate over UDP (RFC 8656) with long-term credentials, as a browser does it: an
 * unauthenticated request draws 401 with REALM and NONCE, then the request is repeated with
 * USERNAME, REALM, NONCE and MESSAGE-INTEGRITY (HMAC-SHA1 keyed with MD5(username:realm:password)).
 * Gives the relayed address, or the server's error code and reason (401 for refused credentials).
 * The allocation is left to expire with the server (it is only a probe).
 */
export async function turnAllocate(o: { host: string; port: number; username: string; credential: string; timeoutMs?: number }): Promise<TurnAllocation> {
  const sock = createSocket(o.host.includes(':') ? 'udp6' : 'udp4');
  const timeoutMs = o.timeoutMs ?? 2000;
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(0, o.host.includes(':') ? '::1' : o.host.startsWith('127.') ? '127.0.0.1' : '0.0.0.0', () => resolve());
    });
    const exchange = (msg: Buffer, txid: Buffer) =>
      new Promise<Buffer>((resolve, reject) => {
        const timer = setTimeout(() => {
          sock.off('message', onMessage);
          reject(new Error(`no TURN answer from ${o.host}:${o.port} within ${timeoutMs} ms`));
        }, timeoutMs);
        const onMessage = (m: Buffer) => {
          if (m.length < 20 || !m.subarray(8, 20).equals(txid)) return;
          clearTimeout(timer);
          sock.off('message', onMessage);
          resolve(m);
        };
        sock.on('message', onMessage);
        sock.send(msg, o.port, o.host);
      });
    const transport = Buffer.from([17, 0, 0, 0]); // REQUESTED-TRANSPORT: UDP
    const first = randomBytes(12);
    const challenge = parseStun(await exchange(stunMessage(0x0003, first, [[0x0019, transport]]), first));
    const realm = challenge.attrs.get(0x0014);
    const nonce = challenge.attrs.get(0x0015);
    if (challenge.type === 0x0103) return { ok: true, relayed: xorAddress(challenge.attrs.get(0x0016)!, first)!, mapped: xorAddress(challenge.attrs.get(0x0020), first) };
    if (!realm || !nonce) return { ok: false, ...errorCode(challenge.attrs.get(0x0009)) };
    const key = createHash('md5').update(`${o.username}:${realm.toString()}:${o.credential}`).digest();
    const second = randomBytes(12);
    const attrs: [number, Buffer][] = [
      [0x0019, transport],
      [0x0006, Buffer.from(o.username)],
      [0x0014, realm],
      [0x0015, nonce],
    ];
    const answer = parseStun(await exchange(stunMessage(0x0003, second, attrs, key), second));
    if (answer.type === 0x0103) {
      const relayed = xorAddress(answer.attrs.get(0x0016), second);
      if (!relayed) return { ok: false, code: 0, reason: 'success without XOR-RELAYED-ADDRESS' };
      return { ok: true, relayed, mapped: xorAddress(answer.attrs.get(0x0020), second) };
    }
    return { ok: false, ...errorCode(answer.attrs.get(0x0009)) };
  } finally {
    sock.close();
  }
}

const MAGIC = 0x2112a442;

/** A STUN message; with `integrityKey`, MESSAGE-INTEGRITY is appended (RFC 5389 §15.4). */
function stunMessage(type: number, txid: Buffer, attrs: [number, Buffer][], integrityKey?: Buffer): Buffer {
  const body = Buffer.concat(
    attrs.map(([t, v]) => {
      const a = Buffer.alloc(4 + Math.ceil(v.length / 4) * 4);
      a.writeUInt16BE(t, 0);
      a.writeUInt16BE(v.length, 2);
      v.copy(a, 4);
      return a;
    }),
  );
  const header = Buffer.alloc(20);
  header.writeUInt16BE(type, 0);
  header.writeUInt32BE(MAGIC, 4);
  txid.copy(header, 8);
  if (!integrityKey) {
    header.writeUInt16BE(body.length, 2);
    return Buffer.concat([header, body]);
  }
  // The length covers MESSAGE-INTEGRITY itself (24 bytes) when the HMAC is computed.
  header.writeUInt16BE(body.length + 24, 2);
  const mac = createHmac('sha1', integrityKey).update(Buffer.concat([header, body])).digest();
  const mi = Buffer.alloc(24);
  mi.writeUInt16BE(0x0008, 0);
  mi.writeUInt16BE(20, 2);
  mac.copy(mi, 4);
  return Buffer.concat([header, body, mi]);
}

function parseStun(m: Buffer): { type: number; attrs: Map<number, Buffer> } {
  const attrs = new Map<number, Buffer>();
  const end = Math.min(m.length, 20 + m.readUInt16BE(2));
  for (let i = 20; i + 4 <= end; ) {
    const t = m.readUInt16BE(i);
    const len = m.readUInt16BE(i + 2);
    if (!attrs.has(t)) attrs.set(t, m.subarray(i + 4, i + 4 + len));
    i += 4 + Math.ceil(len / 4) * 4;
  }
  return { type: m.readUInt16BE(0), attrs };
}

function errorCode(v: Buffer | undefined): { code: number; reason: string } {
  if (!v || v.length < 4) return { code: 0, reason: 'error response without ERROR-CODE' };
  return { code: (v[2]! & 0x7) * 100 + v[3]!, reason: v.subarray(4).toString() };
}

function xorAddress(v: Buffer | undefined, txid: Buffer): { ip: string; port: number } | null {
  if (!v || v.length < 8) return null;
  const port = v.readUInt16BE(2) ^ (MAGIC >>> 16);
  if (v[1] === 0x01) {
    const ip = (v.readUInt32BE(4) ^ MAGIC) >>> 0;
    return { ip: [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.'), port };
  }
  const mask = Buffer.concat([Buffer.from([0x21, 0x12, 0xa4, 0x42]), txid]);
  const raw = Buffer.from(v.subarray(4, 20).map((b, i) => b ^ mask[i]!));
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(raw.readUInt16BE(i).toString(16));
  return { ip: groups.join(':'), port };
}
