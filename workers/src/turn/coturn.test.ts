import { createHmac } from 'node:crypto';
import { IceServersResponse } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { HttpError } from '../errors.ts';
import { hmacSha1Base64 } from './coturn.ts';
import { mintIceServers } from './mint.ts';

const NOW = 1_700_000_000_123;
const noFetch = (() => {
  throw new Error('coturn must not call out');
}) as unknown as typeof fetch;

describe('coturn (TURN REST API shared secret)', () => {
  it('mints username `<expiry>:<user>` and base64 HMAC-SHA1 credential, checked with node:crypto', async () => {
    const config = loadConfig({
      TURN_PROVIDER: 'coturn',
      TURN_SECRET: 'static-auth-secret-value',
      TURN_URLS: 'turn:turn.example.com:3478?transport=udp, turns:turn.example.com:5349?transport=tcp',
      TURN_TTL_S: '600',
    });
    const out = await mintIceServers(config, 'client:abc-123', noFetch, NOW);
    const expiry = Math.floor(NOW / 1000) + 600;
    const username = `${expiry}:client:abc-123`;
    const credential = createHmac('sha1', 'static-auth-secret-value').update(username).digest('base64');
    expect(out).toEqual({
      iceServers: [
        {
          urls: ['turn:turn.example.com:3478?transport=udp', 'turns:turn.example.com:5349?transport=tcp'],
          username,
          credential,
        },
      ],
      expiresAt: expiry * 1000,
    });
    expect(() => IceServersResponse.parse(out)).not.toThrow();
  });

  it('expires TURN_TTL_S after now, in whole seconds (default 3600)', async () => {
    const config = loadConfig({ TURN_PROVIDER: 'coturn', TURN_SECRET: 'k', TURN_URLS: 'turn:t.example:3478' });
    const out = await mintIceServers(config, 'worker:s1', noFetch, 5_000_999);
    expect(out.expiresAt).toBe((5_000 + 3600) * 1000);
    expect(out.iceServers[0]?.username).toBe('8600:worker:s1');
  });

  it('adds STUN_URLS as a separate server without credentials, and drops port 53', async () => {
    const config = loadConfig({
      TURN_PROVIDER: 'coturn',
      TURN_SECRET: 'k',
      TURN_URLS: 'turn:t.example:3478?transport=udp,turn:t.example:53?transport=udp',
      STUN_URLS: 'stun:s.example:3478,stun:s.example:53',
    });
    const out = await mintIceServers(config, 'client:x', noFetch, NOW);
    expect(out.iceServers).toHaveLength(2);
    expect(out.iceServers[0]?.urls).toEqual(['turn:t.example:3478?transport=udp']);
    expect(out.iceServers[1]).toEqual({ urls: ['stun:s.example:3478'] });
  });

  it('WebCrypto HMAC matches node:crypto on a non-ASCII secret and message', async () => {
    const key = 'sécret-ключ';
    const msg = '1700000600:client:ünïcode';
    expect(await hmacSha1Base64(key, msg)).toBe(createHmac('sha1', key).update(msg).digest('base64'));
  });

  it.each([
    [{ TURN_URLS: 'turn:t.example:3478' }, 'TURN_SECRET is not set'],
    [{ TURN_SECRET: 'k' }, 'TURN_URLS is not set'],
    [{ TURN_SECRET: 'k', TURN_URLS: 'turn:t.example:53' }, 'TURN_URLS has no URL a browser can use'],
  ])('missing or unusable settings are a 500 misconfigured: %j', async (vars, message) => {
    const config = loadConfig({ TURN_PROVIDER: 'coturn', ...vars });
    const err = await mintIceServers(config, 'client:x', noFetch, NOW).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect(err).toMatchObject({ status: 500, code: 'misconfigured' });
    expect((err as HttpError).message).toContain(message);
  });
});
