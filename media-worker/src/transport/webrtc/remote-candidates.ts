/**
 * Which remote ICE candidates a call may use. A candidate names an address the worker will send
 * STUN checks (and then media) to, and a stranger writes it: in the offer and in every trickled
 * candidate. So before werift sees one:
 * - its address must be an IP literal: werift resolves other names itself (`*.local` over
 *   multicast DNS, waiting up to 10 s per candidate; any other name through DNS when it sends),
 *   so a client could make the worker query names of its choosing;
 * - the address must be public unless RTC_ALLOW_PEER_ADDRESSES allows its class: a client must
 *   not aim the worker's packets at the worker's own host (loopback), its private network (the
 *   VPC, the metadata service on link-local) or a multicast group. Unspecified and multicast
 *   addresses are never allowed. Relay candidates are filtered the same way: their address (the
 *   client's TURN server) is where the worker sends;
 * - at most MAX_REMOTE_CANDIDATES are handed to werift per call (offer and trickle together),
 *   since werift keeps every one and pairs it with each local candidate.
 * Peer-reflexive candidates (learned from checks that reach the worker) are werift's own: the
 * peer has already shown it is there.
 */
import { BlockList, isIP } from 'node:net';

/** Address classes RTC_ALLOW_PEER_ADDRESSES can allow. */
export const PEER_ADDRESS_CLASSES = ['loopback', 'private', 'linklocal'] as const;
export type PeerAddressClass = (typeof PEER_ADDRESS_CLASSES)[number];

/** What an address is: public, one of the allowable classes, or never usable. */
export type AddressKind = 'public' | PeerAddressClass | 'unspecified' | 'multicast' | 'reserved';

/** Remote candidates werift is given per call (offer + trickle). */
export const MAX_REMOTE_CANDIDATES = 50;

function blockList(subnets: [string, number, 'ipv4' | 'ipv6'][]): BlockList {
  const list = new BlockList();
  for (const [net, prefix, type] of subnets) list.addSubnet(net, prefix, type);
  return list;
}

/**
 * Checked in this order; BlockList matches IPv4-mapped IPv6 (::ffff:10.0.0.1) against the IPv4
 * subnets too, so a mapped address is no way around them.
 */
const KINDS: [AddressKind, BlockList][] = [
  ['unspecified', blockList([['0.0.0.0', 8, 'ipv4'], ['::', 128, 'ipv6']])],
  ['loopback', blockList([['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']])],
  ['private', blockList([['10.0.0.0', 8, 'ipv4'], ['172.16.0.0', 12, 'ipv4'], ['192.168.0.0', 16, 'ipv4'], ['100.64.0.0', 10, 'ipv4'], ['fc00::', 7, 'ipv6']])],
  ['linklocal', blockList([['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']])],
  ['multicast', blockList([['224.0.0.0', 4, 'ipv4'], ['ff00::', 8, 'ipv6']])],
  // 240/4 (former class E) and the limited broadcast address 255.255.255.255.
  ['reserved', blockList([['240.0.0.0', 4, 'ipv4']])],
];

/** The kind of an IP literal; null when `address` is not one (a hostname, an mDNS name, garbage). */
export function addressKind(address: string): AddressKind | null {
  const family = isIP(address);
  if (family === 0) return null;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const [kind, list] of KINDS) if (list.check(address, type)) return kind;
  return 'public';
}

/** Parses RTC_ALLOW_PEER_ADDRESSES: a comma list of classes ('' = public only). Throws on an unknown class. */
export function parseAllowedClasses(value: string): PeerAddressClass[] {
  const out = new Set<PeerAddressClass>();
  for (const raw of value.split(',')) {
    const name = raw.trim();
    if (!name) continue;
    if (!(PEER_ADDRESS_CLASSES as readonly string[]).includes(name)) {
      throw new Error(`unknown peer address class "${name}" (allowed: ${PEER_ADDRESS_CLASSES.join(', ')})`);
    }
    out.add(name as PeerAddressClass);
  }
  return [...out];
}

/** Why a candidate was not given to werift. */
export type DropReason = 'unparsable' | 'not_ip' | Exclude<AddressKind, 'public'> | 'limit';

/**
 * The connection address of a candidate: `candidate:<foundation> <component> <transport>
 * <priority> <address> <port> typ <type> ...` (RFC 8839), with or without `a=`. Null when the
 * line has not that shape.
 */
export function candidateAddress(candidate: string): string | null {
  const m = /^(?:a=)?candidate:\S+ \d+ \S+ \d+ (\S+) \d+ typ \S+/i.exec(candidate.trim());
  return m ? (m[1] ?? null) : null;
}

/** Whether a candidate may be given to werift (ignoring the count limit); the reason when not. */
export function checkCandidate(candidate: string, allowed: ReadonlySet<PeerAddressClass>): { ok: true } | { ok: false; reason: DropReason } {
  const address = candidateAddress(candidate);
  if (address === null) return { ok: false, reason: 'unparsable' };
  const kind = addressKind(address);
  if (kind === null) return { ok: false, reason: 'not_ip' };
  if (kind === 'public') return { ok: true };
  if (kind === 'loopback' || kind === 'private' || kind === 'linklocal') return allowed.has(kind) ? { ok: true } : { ok: false, reason: kind };
  return { ok: false, reason: kind };
}

/**
 * One call's gate for remote candidates: the offer's and every trickled one pass through it, and
 * it counts what it let through against MAX_REMOTE_CANDIDATES. Drops are counted by reason;
 * `onFirstDrop` is called once per reason per call (a bounded number of log lines however many
 * candidates a client sends).
 */
export class RemoteCandidateGate {
  private readonly allowed: ReadonlySet<PeerAddressClass>;
  private readonly limit: number;
  private readonly onFirstDrop: (reason: DropReason, candidate: string) => void;
  private admittedCount = 0;
  readonly dropped = new Map<DropReason, number>();

  constructor(opts: { allowed: readonly PeerAddressClass[]; limit?: number; onFirstDrop?: (reason: DropReason, candidate: string) => void }) {
    this.allowed = new Set(opts.allowed);
    this.limit = opts.limit ?? MAX_REMOTE_CANDIDATES;
    this.onFirstDrop = opts.onFirstDrop ?? (() => {});
  }

  /** Candidates let through so far. */
  get admitted(): number {
    return this.admittedCount;
  }

  /** Whether this candidate (`candidate:...` or `a=candidate:...`) may go to werift; counts it if so. */
  admit(candidate: string): boolean {
    const verdict = checkCandidate(candidate, this.allowed);
    if (!verdict.ok) return this.drop(verdict.reason, candidate);
    if (this.admittedCount >= this.limit) return this.drop('limit', candidate);
    this.admittedCount++;
    return true;
  }

  /**
   * The offer with every `a=candidate` line the gate refuses removed (everything else, including
   * `a=end-of-candidates`, kept byte for byte), so werift never pairs, resolves or checks them.
   */
  pruneSdp(sdp: string): string {
    const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
    return sdp
      .split(eol)
      .filter((line) => !line.startsWith('a=candidate:') || this.admit(line))
      .join(eol);
  }

  private drop(reason: DropReason, candidate: string): false {
    const n = this.dropped.get(reason) ?? 0;
    this.dropped.set(reason, n + 1);
    if (n === 0) this.onFirstDrop(reason, candidate.slice(0, 200));
    return false;
  }
}
