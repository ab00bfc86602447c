/**
 * Puts a peer connection's host candidate on the worker's shared UDP socket (udp-mux.ts) instead
 * of a socket of its own. werift 0.25.2's ICE (`Connection`) opens one UDP socket per local
 * address in `StunProtocol.connectionMade`; it has no hook for a shared one. This wraps two of
 * its methods:
 * - `ensureProtocol(protocol)`, which werift calls on each host protocol before connecting it:
 *   for a connection whose `iceInterfaceAddresses` carries a mux (`withUdpMux`), the protocol's
 *   `connectionMade` takes a transport of the shared socket and routes the connection's ICE
 *   username fragment to it. TURN clients keep sockets of their own (an allocation is per local
 *   address and port), as do connections without a mux.
 * - `restart()` (at construction, and an ICE restart's new credentials): the connection's
 *   fragment is replaced by one unique on the socket (werift's 4 hex digits collide among many
 *   calls); the new fragment routes to the same transport, and the old ones stay routed, as
 *   werift still answers them (its `userHistory`).
 * A connection gathering on several local addresses gets the shared socket for the first one
 * (RTC_INTERFACE's, listed first, or the host's only address in a container); the others fail
 * to connect, which werift logs and skips: one socket bound to every address cannot answer
 * from the address a check was sent to, so a second candidate on it would mislead the peer.
 */
import { Connection } from 'werift';
import { UdpMux, type MuxTransport } from './udp-mux.ts';

const PATCHED = Symbol.for('switchboard.udpMuxInstalled');
/** The key under which a mux rides in werift's `iceInterfaceAddresses` (werift reads only its string values). */
export const UDP_MUX = Symbol.for('switchboard.udpMux');

type InterfaceAddresses = Partial<Record<'udp4' | 'udp6', string>> & { [UDP_MUX]?: UdpMux };

interface StunProtocolLike {
  type: string;
  transport?: unknown;
  connectionMade: (useIpv4: boolean, ...rest: unknown[]) => Promise<void>;
  datagramReceived(data: Buffer, addr: [string, number]): void;
}
interface ConnectionLike {
  options: { interfaceAddresses?: InterfaceAddresses };
  localUsername: string;
  localPassword: string;
  userHistory: Record<string, string>;
  protocols: { localCandidate?: { ufrag?: string } }[];
}
interface ConnectionProto {
  ensureProtocol(this: ConnectionLike, protocol: unknown): unknown;
  restart(this: ConnectionLike): Promise<void>;
  [PATCHED]?: true;
}

/** The shared-socket transport of each connection, for its ICE restarts. */
const transportOf = new WeakMap<ConnectionLike, MuxTransport>();

/** werift's `iceInterfaceAddresses` for a peer connection on `mux` (and on `udp4` alone, if given). */
export function withUdpMux(mux: UdpMux, udp4: string | undefined): InterfaceAddresses {
  const addresses: InterfaceAddresses = udp4 ? { udp4 } : {};
  Object.defineProperty(addresses, UDP_MUX, { value: mux, enumerable: false });
  return addresses;
}

function isHostStunProtocol(p: unknown): p is StunProtocolLike {
  const q = p as Partial<StunProtocolLike> | null;
  return !!q && q.type === 'stun' && typeof q.connectionMade === 'function' && typeof q.datagramReceived === 'function' && !q.transport;
}

/** Installs the wrappers once per process (idempotent); throws if werift's shape is not the expected one. */
export function installUdpMux(): void {
  const proto = Connection.prototype as unknown as ConnectionProto;
  if (proto[PATCHED]) return;
  const ensureProtocol = proto.ensureProtocol;
  const restart = proto.restart;
  if (typeof ensureProtocol !== 'function' || typeof restart !== 'function') {
    throw new Error('werift Connection.ensureProtocol/restart not found: werift-patches/udp-mux-install.ts needs updating');
  }
  proto.ensureProtocol = function (this: ConnectionLike, protocol: unknown) {
    const mux = this.options?.interfaceAddresses?.[UDP_MUX];
    if (mux && isHostStunProtocol(protocol)) {
      const connection = this;
      protocol.connectionMade = async (useIpv4: boolean) => {
        if (!useIpv4) throw new Error('udp mux: IPv4 only');
        if (transportOf.has(connection)) throw new Error('udp mux: one host candidate per connection');
        const transport = mux.transport();
        transport.addUfrag(connection.localUsername, connection.localPassword);
        transportOf.set(connection, transport);
        transport.onData = (data, addr) => protocol.datagramReceived(data, addr);
        protocol.transport = transport;
      };
    }
    return ensureProtocol.call(this, protocol);
  };
  proto.restart = function (this: ConnectionLike) {
    // werift's restart sets the new credentials before its first await (it has none in 0.25.2);
    // it also runs in werift's constructor, before any gathering, so the answer carries ours.
    const done = restart.call(this);
    const mux = this.options?.interfaceAddresses?.[UDP_MUX];
    if (mux) {
      const theirs = this.localUsername;
      const ours = mux.freshUfrag();
      delete this.userHistory[theirs];
      this.userHistory[ours] = this.localPassword;
      this.localUsername = ours;
      for (const p of this.protocols ?? []) if (p.localCandidate?.ufrag === theirs) p.localCandidate.ufrag = ours;
    }
    transportOf.get(this)?.addUfrag(this.localUsername, this.localPassword);
    return done;
  };
  proto[PATCHED] = true;
}
