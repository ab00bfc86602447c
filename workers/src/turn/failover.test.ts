import { IceServersResponse } from '@switchboard/protocol';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { loadConfig } from '../config.ts';
import { startFakeCloudflareTurn, startFakeTwilioTokens, type Behaviour, type FakeUpstream } from './fake-upstreams.test-helper.ts';
import { failure } from './failure.test-helper.ts';
import { createProviderHealth, FAILED_PROVIDER_COOLDOWN_MS } from './health.ts';
import { mintIceServers } from './mint.ts';

const KEY_ID = 'failover-turn-key';
const CF_TOKEN = 'cf-token-SECRET-failover';
const SID = 'AC0123456789abcdef0123456789abcdef';
const AUTH = 'twilio-auth-SECRET-failover';
const NOW = 1_700_000_000_000;

let fakes: FakeUpstream[] = [];
let warn: MockInstance<typeof console.warn>;
beforeEach(() => {
  warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
});
afterEach(async () => {
  warn.mockRestore();
  await Promise.all(fakes.map((f) => f.close()));
  fakes = [];
});

async function both(cf: Behaviour = 'documented', tw: Behaviour = 'documented', vars: Record<string, string> = {}) {
  const cloudflare = await startFakeCloudflareTurn({ keyId: KEY_ID, token: CF_TOKEN, behaviour: cf });
  const twilio = await startFakeTwilioTokens({ accountSid: SID, authToken: AUTH, behaviour: tw });
  fakes.push(cloudflare, twilio);
  const config = loadConfig({
    TURN_PROVIDER: 'cloudflare,twilio',
    CLOUDFLARE_TURN_KEY_ID: KEY_ID,
    CLOUDFLARE_TURN_KEY_API_TOKEN: CF_TOKEN,
    CLOUDFLARE_TURN_API_BASE: cloudflare.base,
    TWILIO_ACCOUNT_SID: SID,
    TWILIO_AUTH_TOKEN: AUTH,
    TWILIO_API_BASE: twilio.base,
    TURN_TTL_S: '600',
    ...vars,
  });
  return { cloudflare, twilio, config };
}

const logged = () => warn.mock.calls.map((c) => c.map(String).join(' ')).join('\n');

describe('TURN_PROVIDER as an ordered list', () => {
  it('the first provider serves while it works; the second is never asked', async () => {
    const { cloudflare, twilio, config } = await both();
    const out = await mintIceServers(config, 'client:a', fetch, NOW, 500, createProviderHealth());
    expect(cloudflare.seen).toHaveLength(1);
    expect(twilio.seen).toHaveLength(0);
    expect(out.iceServers[1]?.username).toBe(cloudflare.issued!.username);
    expect(warn).not.toHaveBeenCalled();
  });

  it('a provider answering an error is replaced by the next; the answer does not say so, the log does', async () => {
    const { twilio, config } = await both({ status: 503, body: 'upstream overloaded' });
    const out = await mintIceServers(config, 'client:a', fetch, NOW, 500, createProviderHealth());
    expect(twilio.seen).toHaveLength(1);
    // Exactly what twilio alone answers: nothing about cloudflare's failure.
    expect(out).toEqual({
      iceServers: [
        { urls: ['stun:global.stun.twilio.com:3478'] },
        {
          urls: ['turn:global.turn.twilio.com:3478?transport=udp', 'turn:global.turn.twilio.com:3478?transport=tcp', 'turn:global.turn.twilio.com:443?transport=tcp'],
          username: twilio.issued!.username,
          credential: twilio.issued!.credential,
        },
      ],
      expiresAt: NOW + 600_000,
    });
    expect(() => IceServersResponse.parse(out)).not.toThrow();
    expect(JSON.stringify(out)).not.toMatch(/cloudflare|overloaded/i);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(logged()).toBe('TURN provider cloudflare failed (upstream_failed: TURN provider cloudflare answered 503: upstream overloaded); trying twilio');
  });

  it('a provider that never answers is given up after the per-provider timeout, and the next serves', async () => {
    const { cloudflare, twilio, config } = await both('hang');
    const started = performance.now();
    const out = await mintIceServers(config, 'client:a', fetch, NOW, 300, createProviderHealth());
    const took = performance.now() - started;
    expect(cloudflare.seen).toHaveLength(1);
    expect(out.iceServers[1]?.username).toBe(twilio.issued!.username);
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(1_500);
    expect(logged()).toContain('TURN provider cloudflare did not answer within 300 ms');
  });

  it('the default per-provider bound is 2 s', async () => {
    const { twilio, config } = await both('hang-body');
    const started = performance.now();
    const out = await mintIceServers(config, 'client:a', fetch, NOW, undefined, createProviderHealth());
    const took = performance.now() - started;
    expect(out.iceServers[1]?.username).toBe(twilio.issued!.username);
    expect(took).toBeGreaterThanOrEqual(1_990);
    expect(took).toBeLessThan(3_000);
  });

  it('a provider missing its settings is skipped, with the reason logged', async () => {
    const { cloudflare, twilio, config } = await both('documented', 'documented', { CLOUDFLARE_TURN_KEY_ID: '' });
    const out = await mintIceServers(config, 'worker:s', fetch, NOW, 500, createProviderHealth());
    expect(cloudflare.seen).toHaveLength(0);
    expect(out.iceServers[1]?.username).toBe(twilio.issued!.username);
    expect(logged()).toContain('TURN provider cloudflare failed (misconfigured: CLOUDFLARE_TURN_KEY_ID is not set); trying twilio');
  });

  it('a provider that just failed is asked last until the cooldown ends, then first again', async () => {
    const { cloudflare, twilio, config } = await both({ status: 500, body: 'down' });
    const health = createProviderHealth();
    await mintIceServers(config, 'client:a', fetch, NOW, 500, health);
    expect([cloudflare.seen.length, twilio.seen.length]).toEqual([1, 1]);
    // Within the cooldown: twilio first, and it serves, so cloudflare is not waited on.
    await mintIceServers(config, 'client:b', fetch, NOW + FAILED_PROVIDER_COOLDOWN_MS - 1, 500, health);
    expect([cloudflare.seen.length, twilio.seen.length]).toEqual([1, 2]);
    // After it: the configured order again.
    await mintIceServers(config, 'client:c', fetch, NOW + FAILED_PROVIDER_COOLDOWN_MS, 500, health);
    expect([cloudflare.seen.length, twilio.seen.length]).toEqual([2, 3]);
  });

  it('every provider failing is one 502 naming each reason, without secrets', async () => {
    const { config } = await both({ status: 401, body: `bad token ${CF_TOKEN}` }, { status: 500, body: `oops ${AUTH}` });
    const err = await failure(mintIceServers(config, 'client:a', fetch, NOW, 500, createProviderHealth()));
    expect(err).toMatchObject({ status: 502, code: 'upstream_failed' });
    expect(err.message).toBe(
      'every TURN provider failed (cloudflare, twilio): TURN provider cloudflare answered 401: bad token [redacted]; TURN provider twilio answered 500: oops [redacted]',
    );
    expect(logged()).toContain('TURN provider twilio failed');
    expect(logged()).toContain('no provider left');
    expect(logged()).not.toContain(CF_TOKEN);
    expect(logged()).not.toContain(AUTH);
  });

  it('every provider unconfigured is a 500 misconfigured', async () => {
    const config = loadConfig({ TURN_PROVIDER: 'twilio, coturn' });
    const err = await failure(mintIceServers(config, 'client:a', fetch, NOW, 500, createProviderHealth()));
    expect(err).toMatchObject({ status: 500, code: 'misconfigured' });
    expect(err.message).toBe('no TURN provider is configured (twilio, coturn): TWILIO_ACCOUNT_SID is not set; TURN_SECRET is not set');
  });

  it('a list ending in coturn always has a relay to hand out', async () => {
    const { config } = await both({ status: 500, body: 'down' }, { status: 500, body: 'down' }, {
      TURN_PROVIDER: 'cloudflare,twilio,coturn',
      TURN_URLS: 'turns:turn.example.com:443?transport=tcp',
      TURN_SECRET: 's',
    });
    const out = await mintIceServers(config, 'client:a', fetch, NOW, 500, createProviderHealth());
    expect(out.iceServers[0]?.urls).toEqual(['turns:turn.example.com:443?transport=tcp']);
    expect(out.iceServers[0]?.username).toMatch(/^\d+:client:a$/);
  });
});

describe('TURN_PROVIDER parsing', () => {
  it.each([
    [undefined, ['none']],
    ['none', ['none']],
    ['twilio', ['twilio']],
    ['cloudflare,twilio', ['cloudflare', 'twilio']],
    [' Cloudflare , coturn ', ['cloudflare', 'coturn']],
  ])('%j is %j', (value, expected) => {
    expect(loadConfig(value === undefined ? {} : { TURN_PROVIDER: value }).TURN_PROVIDER).toEqual(expected);
  });

  it.each([
    ['carrier-pigeon', /TURN_PROVIDER/],
    ['cloudflare,carrier-pigeon', /TURN_PROVIDER/],
    ['none,twilio', /TURN_PROVIDER: 'none' stands alone/],
    ['twilio,twilio', /TURN_PROVIDER: names a provider twice/],
    ['cloudflare,,twilio', /TURN_PROVIDER/],
    ['cloudflare,twilio,coturn,none', /TURN_PROVIDER: at most 3 providers/],
  ])('%j is refused with a 500 naming TURN_PROVIDER', (value, message) => {
    let thrown: unknown;
    try {
      loadConfig({ TURN_PROVIDER: value });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ status: 500, code: 'misconfigured', message: expect.stringMatching(message) });
  });
});
