import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { mintIceServers } from './mint.ts';

const noFetch = (() => {
  throw new Error('must not call out');
}) as unknown as typeof fetch;

describe('mintIceServers with TURN_PROVIDER=none', () => {
  it('returns no servers and no expiry by default', async () => {
    expect(await mintIceServers(loadConfig({}), 'client:x', noFetch)).toEqual({ iceServers: [], expiresAt: null });
  });

  it('returns STUN_URLS as one credential-less server, minus port 53', async () => {
    const config = loadConfig({ TURN_PROVIDER: 'none', STUN_URLS: 'stun:a.example:3478, stun:a.example:53 ,stun:b.example:19302' });
    expect(await mintIceServers(config, 'client:x', noFetch)).toEqual({
      iceServers: [{ urls: ['stun:a.example:3478', 'stun:b.example:19302'] }],
      expiresAt: null,
    });
  });
});
