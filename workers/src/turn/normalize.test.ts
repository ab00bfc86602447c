import { describe, expect, it } from 'vitest';
import { normalizeIceServers, parseIceUrl } from './normalize.ts';

describe('parseIceUrl', () => {
  it('reads scheme and port, with RFC 7064/7065 default ports', () => {
    expect(parseIceUrl('stun:stun.example.com')).toEqual({ scheme: 'stun', port: 3478 });
    expect(parseIceUrl('turns:turn.example.com')).toEqual({ scheme: 'turns', port: 5349 });
    expect(parseIceUrl('turn:turn.example.com:53?transport=udp')).toEqual({ scheme: 'turn', port: 53 });
    expect(parseIceUrl('turn:[2001:db8::1]:3478?transport=tcp')).toEqual({ scheme: 'turn', port: 3478 });
    expect(parseIceUrl('stun:192.0.2.1:53')).toEqual({ scheme: 'stun', port: 53 });
  });

  it('refuses what a browser would refuse to parse', () => {
    for (const bad of ['', 'http://turn.example.com', 'turn://turn.example.com:3478', 'turn:host:99999', 'turn:host:0', 'turn:host:3478?transport=sctp', 'turn:user@host']) {
      expect(parseIceUrl(bad), bad).toBeNull();
    }
  });
});

describe('normalizeIceServers', () => {
  it('always returns urls as an array, falling back to the legacy `url`', () => {
    expect(normalizeIceServers([{ urls: 'stun:a.example:3478' }, { url: 'stun:b.example:3478' }])).toEqual([
      { urls: ['stun:a.example:3478', 'stun:b.example:3478'] },
    ]);
  });

  it('drops port-53 URLs and servers left without a URL', () => {
    expect(
      normalizeIceServers([
        { urls: ['stun:s.example:53'] },
        { urls: ['turn:t.example:53?transport=udp', 'turn:t.example:3478?transport=udp'], username: 'u', credential: 'c' },
      ]),
    ).toEqual([{ urls: ['turn:t.example:3478?transport=udp'], username: 'u', credential: 'c' }]);
  });

  it('drops TURN URLs without credentials and malformed URLs (browsers throw on both)', () => {
    expect(normalizeIceServers([{ urls: ['turn:t.example:3478', 'stun:s.example:3478', 'not a url'] }])).toEqual([
      { urls: ['stun:s.example:3478'] },
    ]);
  });

  it('merges entries with the same credentials and dedupes URLs, keeping first-seen order', () => {
    const out = normalizeIceServers([
      { urls: 'stun:s.example:3478' },
      { url: 'turn:t.example:3478?transport=udp', urls: 'turn:t.example:3478?transport=udp', username: 'u', credential: 'c' },
      { urls: ['turn:t.example:443?transport=tcp', 'turn:t.example:3478?transport=udp'], username: 'u', credential: 'c' },
      { urls: 'stun:s.example:3478' },
      { urls: 'turn:other.example:3478', username: 'u2', credential: 'c2' },
    ]);
    expect(out).toEqual([
      { urls: ['stun:s.example:3478'] },
      { urls: ['turn:t.example:3478?transport=udp', 'turn:t.example:443?transport=tcp'], username: 'u', credential: 'c' },
      { urls: ['turn:other.example:3478'], username: 'u2', credential: 'c2' },
    ]);
  });

  it('returns [] for nothing usable', () => {
    expect(normalizeIceServers([])).toEqual([]);
    expect(normalizeIceServers([{ urls: [] }])).toEqual([]);
  });
});

describe('TURN over TCP and TLS on 443 (firewalls that allow only TCP 443)', () => {
  it('passes turn:HOST:443?transport=tcp and turns:HOST:443?transport=tcp through unchanged, in order', () => {
    const urls = [
      'turn:turn.example.com:3478?transport=udp',
      'turn:turn.example.com:443?transport=tcp',
      'turns:turn.example.com:443?transport=tcp',
      'turns:turn.example.com:443',
      'turns:[2001:db8::1]:443?transport=tcp',
      'turns:192.0.2.7:443?transport=tcp',
    ];
    expect(normalizeIceServers([{ urls, username: 'u', credential: 'c' }])).toEqual([{ urls, username: 'u', credential: 'c' }]);
  });

  it('drops turns: over UDP (TURN over DTLS), which neither browsers nor the worker speak', () => {
    expect(
      normalizeIceServers([{ urls: ['turns:turn.example.com:443?transport=udp', 'turns:turn.example.com:443?transport=tcp'], username: 'u', credential: 'c' }]),
    ).toEqual([{ urls: ['turns:turn.example.com:443?transport=tcp'], username: 'u', credential: 'c' }]);
  });
});
