import { describe, expect, it } from 'vitest';
import { withStunFromTurn } from './stun-from-turn.ts';

const turn = { urls: ['turn:turn.example:3478?transport=udp', 'turn:turn.example:3478?transport=tcp'], username: 'u', credential: 'c' };

describe('the STUN server werift asks', () => {
  it('is the TURN server when no STUN server is given', () => {
    expect(withStunFromTurn([turn])).toEqual([turn, { urls: ['stun:turn.example:3478'] }]);
    expect(withStunFromTurn([{ urls: ['turn:[2001:db8::1]:3478'] }])).toEqual([{ urls: ['turn:[2001:db8::1]:3478'] }, { urls: ['stun:[2001:db8::1]:3478'] }]);
  });

  it('is left alone when a STUN server is given, or no TURN server over UDP is', () => {
    const withStun = [{ urls: ['stun:stun.example:3478'] }, turn];
    expect(withStunFromTurn(withStun)).toBe(withStun);
    const tcpOnly = [{ urls: ['turn:t.example:443?transport=tcp', 'turns:t.example:5349'] }];
    expect(withStunFromTurn(tcpOnly)).toBe(tcpOnly);
    expect(withStunFromTurn([])).toEqual([]);
  });
});
