/**
 * One UDP socket for every WebRTC session of the worker (RTC_UDP_PORT), as LiveKit and pion's
 * UDPMux do. With a socket per session, every received packet is a wake-up of its own; on one
 * socket, libuv reads the datagrams that queued during a wake-up in one go (up to 32), and the
 * receive batch (transport/receive-batch.ts) handles them in one drain per tick.
 *
 * Demultiplexing, per datagram:
 * - a STUN binding request goes to the session whose ICE username fragment its USERNAME names
 *   (`ourUfrag:theirUfrag`), only if its MESSAGE-INTEGRITY verifies under that session's ICE
 *   password; then its source address is the session's (learned from the checks: consent
 *   freshness keeps it fresh, a new address from an ICE restart or a NAT rebinding replaces it);
 * - a STUN response goes to the session that sent the request (its transaction id), since the
 *   answer to a worker's own check or a STUN server's reply carries no username;
 * - anything else (DTLS, SRTP, SRTCP, indications) goes by source address;
 * - a datagram from an unknown address, or a request for an unknown or unverified fragment, is
 *   dropped: two map lookups, no parse beyond the first byte for non-STUN.
 * A session's transport looks to werift like its own `UdpTransport` (send, close, address,
 * onData), so werift's ICE, DTLS and the worker's RTP fast path run on it unchanged.
 *
 * Limits on what a stranger can make it hold: addresses per session (MAX_ADDRESSES_PER_SESSION,
 * the oldest forgotten first), fragments per session (MAX_UFRAGS_PER_SESSION, ICE restarts), and
 * outstanding transactions (MAX_TRANSACTIONS, forgotten after TRANSACTION_TTL_MS).
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { integrityValid, recipientUfrag, stunClass, transactionKey } from './stun-fields.ts';

export type Addr = [string, number];

export const MAX_ADDRESSES_PER_SESSION = 8;
export const MAX_UFRAGS_PER_SESSION = 8;
export const MAX_TRANSACTIONS = 8192;
/** STUN's longest transaction (RFC 5389 §7.2.1, 7 retransmissions from 500 ms) is under 40 s. */
export const TRANSACTION_TTL_MS = 40_000;
/**
 * Receive buffer asked for the shared socket: what used to be one kernel buffer per session is one
 * for all. The kernel caps it at net.core.rmem_max (4 MiB here; 208 KiB on many hosts).
 */
const RECV_BUFFER_BYTES = 4 << 20;

/** What the mux counts (the worker's /metrics). */
export interface UdpMuxCounters {
  /** Datagrams from an address no session has verified, or STUN for no session. */
  dropped: number;
  /** Binding requests whose integrity did not verify under the named session's password. */
  unverified: number;
}

/** One session's view of the shared socket, in the shape of werift's UdpTransport. */
export class MuxTransport {
  readonly type = 'udp';
  readonly socketType = 'udp4';
  readonly options = {};
  readonly addressFamily = 4;
  readonly socket: Socket;
  closed = false;
  rinfo: { address: string; port: number } | undefined;
  /** Replaced by werift (StunProtocol) and by the RTP fast path. */
  onData: (data: Buffer, addr: Addr) => void = () => {};
  /** Remote addresses this session owns, oldest first ("ip|port"). */
  readonly addresses: string[] = [];
  /** Its ICE username fragments with their passwords, oldest first. */
  readonly ufrags: [string, string][] = [];
  readonly #mux: UdpMux;

  constructor(mux: UdpMux) {
    this.#mux = mux;
    this.socket = mux.socket;
  }

  get address(): { address: string; port: number } {
    return this.socket.address();
  }
  get host(): string {
    return this.socket.address().address;
  }
  get port(): number {
    return this.socket.address().port;
  }

  /** Makes `ufrag` (this session's ICE credential) route here. */
  addUfrag(ufrag: string, password: string): void {
    this.#mux.addUfrag(this, ufrag, password);
  }

  send = async (data: Buffer, addr?: Addr): Promise<void> => {
    if (this.closed) return;
    const to = addr ?? (this.rinfo ? [this.rinfo.address, this.rinfo.port] : undefined);
    if (!to) throw new Error('udp mux: send without a remote address');
    this.#mux.sent(this, data);
    if (isIP(to[0])) {
      this.socket.send(data, to[1], to[0]);
      return;
    }
    // A host name (a STUN server's): the send's callback reports a failed lookup.
    await new Promise<void>((resolve, reject) => this.socket.send(data, to[1], to[0], (err) => (err ? reject(err) : resolve())));
  };

  /** Forgets this session's fragments, addresses and transactions; the socket stays open for the others. */
  close = async (): Promise<void> => {
    if (this.closed) return;
    this.closed = true;
    this.#mux.forget(this);
  };
}

export class UdpMux {
  readonly socket: Socket;
  readonly counters: UdpMuxCounters = { dropped: 0, unverified: 0 };
  readonly #byUfrag = new Map<string, { transport: MuxTransport; password: string }>();
  /** Remote port, then address: no string is built per datagram. */
  readonly #byPort = new Map<number, Map<string, MuxTransport>>();
  /** Transaction id of a request a session sent -> that session and when (insertion order = age). */
  readonly #byTx = new Map<string, { transport: MuxTransport; at: number }>();

  static readonly #shared = new Map<string, Promise<UdpMux>>();

  /**
   * The process's mux on `port` and `address`, bound on first use (main.ts binds it at start,
   * so a port in use stops the worker there); every session of the process shares it.
   */
  static shared(port: number, address: string | undefined): Promise<UdpMux> {
    const key = `${address ?? '*'}:${port}`;
    let mux = UdpMux.#shared.get(key);
    if (!mux) {
      mux = UdpMux.bind(port, address);
      UdpMux.#shared.set(key, mux);
      mux.catch(() => UdpMux.#shared.delete(key));
    }
    return mux;
  }

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('message', (data, rinfo) => this.receive(data, rinfo));
  }

  /** Binds the shared socket on `address` (undefined: every address) and `port` (0: one the OS picks). */
  static async bind(port: number, address: string | undefined): Promise<UdpMux> {
    const socket = createSocket({ type: 'udp4' });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(new Error(`RTC_UDP_PORT ${port}${address ? ` on ${address}` : ''}: ${err.message}`));
      socket.once('error', onError);
      socket.bind({ port, address, exclusive: true }, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    try {
      socket.setRecvBufferSize(RECV_BUFFER_BYTES);
    } catch {
      // Kept at the system's default: the kernel refused the size.
    }
    // A send error on one session's address (ICMP unreachable) must not end the worker.
    socket.on('error', () => {});
    return new UdpMux(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Sessions with at least one fragment registered. */
  get sessions(): number {
    return new Set([...this.#byUfrag.values()].map((e) => e.transport)).size;
  }

  /**
   * An ICE username fragment no session of this socket uses: werift's own are 4 hex digits, which
   * among 80 calls at once collide with a probability of about 5 % (a collision would leave the
   * second call without a host candidate), so calls on the mux get 8 (RFC 8445: at least 4).
   */
  freshUfrag(random: () => string = () => randomBytes(4).toString('hex')): string {
    for (;;) {
      const ufrag = random();
      if (!this.#byUfrag.has(ufrag)) return ufrag;
    }
  }

  /** A new session's transport on this socket. */
  transport(): MuxTransport {
    return new MuxTransport(this);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  /** @internal MuxTransport.addUfrag */
  addUfrag(t: MuxTransport, ufrag: string, password: string): void {
    if (t.closed) return;
    const owner = this.#byUfrag.get(ufrag);
    if (owner && owner.transport !== t) throw new Error('udp mux: ICE username fragment already in use');
    this.#byUfrag.set(ufrag, { transport: t, password });
    t.ufrags.push([ufrag, password]);
    while (t.ufrags.length > MAX_UFRAGS_PER_SESSION) this.#byUfrag.delete(t.ufrags.shift()![0]);
  }

  /** @internal MuxTransport.send: remembers the transaction of a request, so its response comes back here. */
  sent(t: MuxTransport, data: Buffer): void {
    if (stunClass(data) !== 'request') return;
    const now = performance.now();
    this.#byTx.set(transactionKey(data), { transport: t, at: now });
    for (const [key, e] of this.#byTx) {
      if (this.#byTx.size <= MAX_TRANSACTIONS && now - e.at < TRANSACTION_TTL_MS) break;
      this.#byTx.delete(key);
    }
  }

  /** @internal MuxTransport.close */
  forget(t: MuxTransport): void {
    for (const [ufrag] of t.ufrags) if (this.#byUfrag.get(ufrag)?.transport === t) this.#byUfrag.delete(ufrag);
    for (const key of t.addresses) this.#unlearn(key, t);
    for (const [key, e] of this.#byTx) if (e.transport === t) this.#byTx.delete(key);
  }

  /** Routes one datagram (the socket's 'message' handler; public for tests). */
  receive(data: Buffer, rinfo: Pick<RemoteInfo, 'address' | 'port'>): void {
    // Media first: by source address, before any STUN parsing.
    const known = this.#byPort.get(rinfo.port)?.get(rinfo.address);
    if (known && (data.length === 0 || (data[0]! & 0xc0) !== 0)) return this.#deliver(known, data, rinfo);
    const cls = stunClass(data);
    if (cls === 'request') {
      const ufrag = recipientUfrag(data);
      const entry = ufrag === null ? undefined : this.#byUfrag.get(ufrag);
      if (!entry) {
        this.counters.dropped++;
        return;
      }
      if (!integrityValid(data, entry.password)) {
        this.counters.unverified++;
        return;
      }
      this.#learn(entry.transport, rinfo);
      return this.#deliver(entry.transport, data, rinfo);
    }
    if (cls === 'success' || cls === 'error') {
      const tx = this.#byTx.get(transactionKey(data));
      if (tx && !tx.transport.closed) return this.#deliver(tx.transport, data, rinfo);
    }
    if (known) return this.#deliver(known, data, rinfo);
    this.counters.dropped++;
  }

  #deliver(t: MuxTransport, data: Buffer, rinfo: Pick<RemoteInfo, 'address' | 'port'>): void {
    t.rinfo = rinfo;
    try {
      t.onData(data, [rinfo.address, rinfo.port]);
    } catch {
      // werift's own transport swallows a handler's throw the same way (one session, not the socket).
    }
  }

  #learn(t: MuxTransport, rinfo: Pick<RemoteInfo, 'address' | 'port'>): void {
    let byAddress = this.#byPort.get(rinfo.port);
    const current = byAddress?.get(rinfo.address);
    if (current === t) return;
    if (!byAddress) this.#byPort.set(rinfo.port, (byAddress = new Map()));
    // The address moved to this session (a client that resumed from the same socket).
    if (current) current.addresses.splice(current.addresses.indexOf(`${rinfo.address}|${rinfo.port}`), 1);
    byAddress.set(rinfo.address, t);
    t.addresses.push(`${rinfo.address}|${rinfo.port}`);
    while (t.addresses.length > MAX_ADDRESSES_PER_SESSION) this.#unlearn(t.addresses.shift()!, t);
  }

  #unlearn(key: string, t: MuxTransport): void {
    const bar = key.lastIndexOf('|');
    const port = Number(key.slice(bar + 1));
    const byAddress = this.#byPort.get(port);
    const address = key.slice(0, bar);
    if (byAddress?.get(address) !== t) return;
    byAddress.delete(address);
    if (byAddress.size === 0) this.#byPort.delete(port);
  }
}
