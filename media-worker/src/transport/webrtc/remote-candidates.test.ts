import { describe, expect, it } from 'vitest';
import {
  addressKind,
  candidateAddress,
  checkCandidate,
  MAX_REMOTE_CANDIDATES,
  parseAllowedClasses,
  RemoteCandidateGate,
  type DropReason,
  type PeerAddressClass,
} from './remote-candidates.ts';

const cand = (address: string, type = 'host', port = 50000) => `candidate:1 1 udp 2122260223 ${address} ${port} typ ${type}`;

describe('addressKind', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['203.0.113.7', 'public'],
    ['172.32.0.1', 'public'],
    ['100.128.0.1', 'public'],
    ['2001:4860:4860::8888', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.1.2', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.10', 'private'],
    ['100.64.0.1', 'private'],
    ['100.127.255.255', 'private'],
    ['fd12:3456::1', 'private'],
    ['fc00::1', 'private'],
    ['169.254.169.254', 'linklocal'],
    ['fe80::1', 'linklocal'],
    ['fe80::1%eth0', 'linklocal'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.251', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::fb', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['240.0.0.1', 'reserved'],
  ] as const)('%s is %s', (address, kind) => {
    expect(addressKind(address)).toBe(kind);
  });

  it('sees through IPv4-mapped IPv6 addresses', () => {
    expect(addressKind('::ffff:127.0.0.1')).toBe('loopback');
    expect(addressKind('::ffff:10.0.0.1')).toBe('private');
    expect(addressKind('::ffff:a9fe:a9fe')).toBe('linklocal'); // 169.254.169.254
    expect(addressKind('::ffff:8.8.8.8')).toBe('public');
  });

  it('is null for anything that is not an IP literal: host names, mDNS names, shorthand IPv4', () => {
    for (const a of ['example.com', 'localhost', '3f1b2c4d-1111-2222-3333-444455556666.local', '127.1', '0x7f000001', '1.2.3.4.5', '']) {
      expect(addressKind(a), a).toBeNull();
    }
  });
});

describe('candidateAddress', () => {
  it('reads the connection address of trickled and SDP candidate lines', () => {
    expect(candidateAddress(cand('1.2.3.4'))).toBe('1.2.3.4');
    expect(candidateAddress(`a=${cand('2001:db8::1', 'srflx')} raddr 0.0.0.0 rport 0 generation 0`)).toBe('2001:db8::1');
    expect(candidateAddress('candidate:842163049 1 tcp 1518280447 198.51.100.2 9 typ host tcptype active')).toBe('198.51.100.2');
  });

  it('is null for lines that are not candidates', () => {
    expect(candidateAddress('candidate:1 1 udp')).toBeNull();
    expect(candidateAddress('a=end-of-candidates')).toBeNull();
    expect(candidateAddress('hello')).toBeNull();
  });
});

describe('checkCandidate', () => {
  const none = new Set<PeerAddressClass>();
  it('lets public addresses of every candidate type through', () => {
    for (const type of ['host', 'srflx', 'prflx', 'relay']) expect(checkCandidate(cand('198.51.100.9', type), none)).toEqual({ ok: true });
  });

  it('drops names (mDNS and DNS) whatever is allowed', () => {
    const all = new Set<PeerAddressClass>(['loopback', 'private', 'linklocal']);
    expect(checkCandidate(cand('0f7c1c3e-1d2b-4b1a-9a3c-7a8f2b1c9d0e.local'), all)).toEqual({ ok: false, reason: 'not_ip' });
    expect(checkCandidate(cand('turn.example.com', 'relay'), all)).toEqual({ ok: false, reason: 'not_ip' });
  });

  it('drops loopback, private and link-local addresses unless their class is allowed; relay candidates too', () => {
    expect(checkCandidate(cand('127.0.0.1'), none)).toEqual({ ok: false, reason: 'loopback' });
    expect(checkCandidate(cand('10.0.0.5', 'relay'), none)).toEqual({ ok: false, reason: 'private' });
    expect(checkCandidate(cand('169.254.169.254'), none)).toEqual({ ok: false, reason: 'linklocal' });
    expect(checkCandidate(cand('127.0.0.1'), new Set(['loopback']))).toEqual({ ok: true });
    expect(checkCandidate(cand('10.0.0.5', 'relay'), new Set(['private']))).toEqual({ ok: true });
    expect(checkCandidate(cand('fe80::1'), new Set(['linklocal']))).toEqual({ ok: true });
    // Allowing one class does not allow another.
    expect(checkCandidate(cand('192.168.0.2'), new Set(['loopback']))).toEqual({ ok: false, reason: 'private' });
  });

  it('never allows unspecified, multicast or reserved addresses', () => {
    const all = new Set<PeerAddressClass>(['loopback', 'private', 'linklocal']);
    expect(checkCandidate(cand('0.0.0.0'), all)).toEqual({ ok: false, reason: 'unspecified' });
    expect(checkCandidate(cand('224.0.0.251'), all)).toEqual({ ok: false, reason: 'multicast' });
    expect(checkCandidate(cand('255.255.255.255'), all)).toEqual({ ok: false, reason: 'reserved' });
  });

  it('drops lines it cannot parse', () => {
    expect(checkCandidate('candidate:garbage', none)).toEqual({ ok: false, reason: 'unparsable' });
  });
});

describe('parseAllowedClasses', () => {
  it('reads a comma list, ignoring blanks and repeats', () => {
    expect(parseAllowedClasses('')).toEqual([]);
    expect(parseAllowedClasses('loopback')).toEqual(['loopback']);
    expect(parseAllowedClasses(' private, loopback ,,private')).toEqual(['private', 'loopback']);
  });

  it('refuses an unknown class', () => {
    expect(() => parseAllowedClasses('loopback,public')).toThrow(/unknown peer address class "public"/);
  });
});

describe('RemoteCandidateGate', () => {
  it('admits at most MAX_REMOTE_CANDIDATES (50) per call across offer and trickle', () => {
    const firsts: DropReason[] = [];
    const gate = new RemoteCandidateGate({ allowed: [], onFirstDrop: (r) => firsts.push(r) });
    const offer = ['v=0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', ...Array.from({ length: 30 }, (_, i) => `a=${cand('198.51.100.1', 'host', 40000 + i)}`), 'a=end-of-candidates', ''].join('\r\n');
    const pruned = gate.pruneSdp(offer);
    expect(pruned.split('\r\n').filter((l) => l.startsWith('a=candidate:'))).toHaveLength(30);
    const trickled = Array.from({ length: 40 }, (_, i) => gate.admit(cand('198.51.100.2', 'host', 41000 + i)));
    expect(trickled.filter(Boolean)).toHaveLength(MAX_REMOTE_CANDIDATES - 30);
    expect(trickled.slice(0, 20).every(Boolean)).toBe(true);
    expect(gate.admitted).toBe(50);
    expect(gate.dropped.get('limit')).toBe(20);
    expect(firsts).toEqual(['limit']); // one report, however many are refused
  });

  it('does not count refused candidates against the limit', () => {
    const gate = new RemoteCandidateGate({ allowed: [], limit: 2 });
    for (let i = 0; i < 10; i++) expect(gate.admit(cand('10.0.0.1'))).toBe(false);
    expect(gate.admit(cand('198.51.100.1'))).toBe(true);
    expect(gate.admit(cand('198.51.100.2'))).toBe(true);
    expect(gate.admit(cand('198.51.100.3'))).toBe(false);
    expect(Object.fromEntries(gate.dropped)).toEqual({ private: 10, limit: 1 });
  });

  it('prunes refused candidate lines from an SDP and keeps every other line byte for byte', () => {
    const lines = [
      'v=0',
      'o=- 1 1 IN IP4 0.0.0.0',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111',
      'c=IN IP4 0.0.0.0',
      'a=ice-ufrag:abcd',
      `a=${cand('192.168.1.2')} generation 0`,
      `a=${cand('4a1b.local')}`,
      `a=${cand('203.0.113.5', 'srflx')} raddr 192.168.1.2 rport 50000`,
      `a=${cand('127.0.0.1')}`,
      'a=end-of-candidates',
      '',
    ];
    const gate = new RemoteCandidateGate({ allowed: ['loopback'] });
    const out = gate.pruneSdp(lines.join('\r\n'));
    expect(out).toBe([lines[0], lines[1], lines[2], lines[3], lines[4], lines[7], lines[8], lines[9], ''].join('\r\n'));
    expect(Object.fromEntries(gate.dropped)).toEqual({ private: 1, not_ip: 1 });
    // LF-only SDP is handled the same way.
    expect(new RemoteCandidateGate({ allowed: [] }).pruneSdp(lines.join('\n'))).toBe([lines[0], lines[1], lines[2], lines[3], lines[4], lines[7], lines[9], ''].join('\n'));
  });
});
