import { IceServersResponse } from '@switchboard/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { HttpError } from '../errors.ts';
import { startFakeTwilioTokens, type Behaviour, type FakeUpstream } from './fake-upstreams.test-helper.ts';
import { failure } from './failure.test-helper.ts';
import { mintIceServers } from './mint.ts';

const SID = 'AC0123456789abcdef0123456789abcdef';
const AUTH = 'twilio-auth-token-SECRET';
const NOW = 1_700_000_000_000;

let fake: FakeUpstream | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function withFake(behaviour?: Behaviour, vars: Record<string, string> = {}) {
  fake = await startFakeTwilioTokens({ accountSid: SID, authToken: AUTH, ...(behaviour ? { behaviour } : {}) });
  const config = loadConfig({
    TURN_PROVIDER: 'twilio',
    TWILIO_ACCOUNT_SID: SID,
    TWILIO_AUTH_TOKEN: AUTH,
    TWILIO_API_BASE: fake.base,
    TURN_TTL_S: '1200',
    ...vars,
  });
  return { fake, config };
}


describe('Twilio Network Traversal Service', () => {
  it('POSTs Tokens.json with Basic auth and Ttl form body and normalises the documented answer', async () => {
    const { fake, config } = await withFake();
    const out = await mintIceServers(config, 'worker:s1', fetch, NOW);

    expect(fake.seen).toHaveLength(1);
    const req = fake.seen[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe(`/2010-04-01/Accounts/${SID}/Tokens.json`);
    expect(req.headers.authorization).toBe(`Basic ${Buffer.from(`${SID}:${AUTH}`).toString('base64')}`);
    expect(req.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(req.body).toBe('Ttl=1200');

    // One entry per URL upstream; merged by shared credentials here, urls always arrays.
    expect(out).toEqual({
      iceServers: [
        { urls: ['stun:global.stun.twilio.com:3478'] },
        {
          urls: [
            'turn:global.turn.twilio.com:3478?transport=udp',
            'turn:global.turn.twilio.com:3478?transport=tcp',
            'turn:global.turn.twilio.com:443?transport=tcp',
          ],
          username: fake.issued!.username,
          credential: fake.issued!.credential,
        },
      ],
      expiresAt: NOW + 1_200_000,
    });
    expect(() => IceServersResponse.parse(out)).not.toThrow();
  });

  it('caps Ttl at Twilio\'s 24 h maximum when TURN_TTL_S is longer', async () => {
    const { fake, config } = await withFake(undefined, { TURN_TTL_S: '172800' });
    const out = await mintIceServers(config, 'worker:s1', fetch, NOW);
    expect(fake.seen[0]?.body).toBe('Ttl=86400');
    expect(out.expiresAt).toBe(NOW + 86_400_000);
  });

  it('uses `url` when `urls` is missing, and accepts `urls` as an array', async () => {
    const body = JSON.stringify({
      ice_servers: [
        { url: 'stun:global.stun.twilio.com:3478' },
        { urls: ['turn:global.turn.twilio.com:3478?transport=udp', 'turn:global.turn.twilio.com:53?transport=udp'], username: 'u', credential: 'c' },
      ],
      ttl: '1200',
    });
    const { config } = await withFake({ status: 201, body });
    const out = await mintIceServers(config, 'worker:s1', fetch, NOW);
    expect(out.iceServers).toEqual([
      { urls: ['stun:global.stun.twilio.com:3478'] },
      { urls: ['turn:global.turn.twilio.com:3478?transport=udp'], username: 'u', credential: 'c' },
    ]);
  });

  it('takes a shorter ttl reported by Twilio as the expiry', async () => {
    const body = JSON.stringify({ ice_servers: [{ urls: 'stun:global.stun.twilio.com:3478' }], ttl: '600' });
    const { config } = await withFake({ status: 201, body });
    expect((await mintIceServers(config, 'worker:s1', fetch, NOW)).expiresAt).toBe(NOW + 600_000);
  });

  it('bad credentials are a 502 with Twilio\'s error, without the auth token', async () => {
    const { config } = await withFake(undefined, { TWILIO_AUTH_TOKEN: 'wrong-auth-token' });
    const err = await failure(mintIceServers(config, 'worker:s1', fetch, NOW));
    expect(err).toMatchObject({ status: 502, code: 'upstream_failed' });
    expect(err.message).toMatch(/^TURN provider twilio answered 401: \{"code":20003,"message":"Authenticate"/);
    expect(err.message).not.toContain('wrong-auth-token');
  });

  it('a 500 is a 502 with the status, the auth token redacted', async () => {
    const { config } = await withFake({ status: 500, body: `oops ${AUTH}`, contentType: 'text/plain' });
    const err = await failure(mintIceServers(config, 'worker:s1', fetch, NOW));
    expect(err.message).toBe('TURN provider twilio answered 500: oops [redacted]');
  });

  it('malformed JSON is a 502', async () => {
    const { config } = await withFake({ status: 201, body: 'not json at all' });
    const err = await failure(mintIceServers(config, 'worker:s1', fetch, NOW));
    expect(err).toMatchObject({ status: 502, message: 'TURN provider twilio answered 201 with a body that is not JSON' });
  });

  it('a server entry without any URL is a 502 naming the field', async () => {
    const { config } = await withFake({ status: 201, body: JSON.stringify({ ice_servers: [{ username: 'u' }] }) });
    const err = await failure(mintIceServers(config, 'worker:s1', fetch, NOW));
    expect(err.status).toBe(502);
    expect(err.message).toMatch(/^TURN provider twilio answered 201 with an unexpected body: ice_servers\.0: /);
  });

  it('an upstream that never answers is a 502 after the timeout', async () => {
    const { config } = await withFake('hang');
    const err = await failure(mintIceServers(config, 'worker:s1', fetch, NOW, 200));
    expect(err).toMatchObject({ status: 502, message: 'TURN provider twilio did not answer within 200 ms' });
  });

  it.each([
    [{ TWILIO_AUTH_TOKEN: AUTH }, 'TWILIO_ACCOUNT_SID is not set'],
    [{ TWILIO_ACCOUNT_SID: SID }, 'TWILIO_AUTH_TOKEN is not set'],
  ])('missing settings are a 500 misconfigured and make no request: %j', async (vars, message) => {
    let calls = 0;
    const spy = (async () => {
      calls++;
      return new Response('{}');
    }) as typeof fetch;
    const err = await failure(mintIceServers(loadConfig({ TURN_PROVIDER: 'twilio', ...vars }), 'worker:s1', spy, NOW));
    expect(err).toMatchObject({ status: 500, code: 'misconfigured', message });
    expect(calls).toBe(0);
  });
});
