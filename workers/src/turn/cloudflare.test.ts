import { IceServersResponse } from '@switchboard/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { HttpError } from '../errors.ts';
import { startFakeCloudflareTurn, type Behaviour, type FakeUpstream } from './fake-upstreams.test-helper.ts';
import { failure } from './failure.test-helper.ts';
import { mintIceServers } from './mint.ts';

const KEY_ID = 'a1b2c3d4e5f6turnkeyid';
const TOKEN = 'cf-turn-key-api-token-SECRET';
const NOW = 1_700_000_000_000;

let fake: FakeUpstream | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function withFake(behaviour?: Behaviour, vars: Record<string, string> = {}) {
  fake = await startFakeCloudflareTurn({ keyId: KEY_ID, token: TOKEN, ...(behaviour ? { behaviour } : {}) });
  const config = loadConfig({
    TURN_PROVIDER: 'cloudflare',
    CLOUDFLARE_TURN_KEY_ID: KEY_ID,
    CLOUDFLARE_TURN_KEY_API_TOKEN: TOKEN,
    CLOUDFLARE_TURN_API_BASE: fake.base,
    TURN_TTL_S: '900',
    ...vars,
  });
  return { fake, config };
}


describe('Cloudflare Realtime TURN', () => {
  it('POSTs generate-ice-servers with Bearer token and {"ttl"} and normalises the documented answer', async () => {
    const { fake, config } = await withFake();
    const out = await mintIceServers(config, 'client:abc', fetch, NOW);

    expect(fake.seen).toHaveLength(1);
    const req = fake.seen[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe(`/v1/turn/keys/${KEY_ID}/credentials/generate-ice-servers`);
    expect(req.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.body)).toEqual({ ttl: 900 });

    expect(out).toEqual({
      iceServers: [
        { urls: ['stun:stun.cloudflare.com:3478'] },
        {
          urls: [
            'turn:turn.cloudflare.com:3478?transport=udp',
            'turn:turn.cloudflare.com:3478?transport=tcp',
            'turn:turn.cloudflare.com:80?transport=tcp',
            'turns:turn.cloudflare.com:5349?transport=tcp',
            'turns:turn.cloudflare.com:443?transport=tcp',
          ],
          username: fake.issued!.username,
          credential: fake.issued!.credential,
        },
      ],
      expiresAt: NOW + 900_000,
    });
    expect(() => IceServersResponse.parse(out)).not.toThrow();
  });

  it('accepts the older shape with iceServers as a single object', async () => {
    const { fake, config } = await withFake('legacy');
    const out = await mintIceServers(config, 'client:abc', fetch, NOW);
    expect(out.iceServers).toEqual([
      {
        urls: [
          'turn:turn.cloudflare.com:3478?transport=udp',
          'turn:turn.cloudflare.com:3478?transport=tcp',
          'turn:turn.cloudflare.com:80?transport=tcp',
          'turns:turn.cloudflare.com:5349?transport=tcp',
          'turns:turn.cloudflare.com:443?transport=tcp',
        ],
        username: fake.issued!.username,
        credential: fake.issued!.credential,
      },
    ]);
  });

  it('tolerates a trailing slash in CLOUDFLARE_TURN_API_BASE', async () => {
    fake = await startFakeCloudflareTurn({ keyId: KEY_ID, token: TOKEN });
    const config = loadConfig({
      TURN_PROVIDER: 'cloudflare',
      CLOUDFLARE_TURN_KEY_ID: KEY_ID,
      CLOUDFLARE_TURN_KEY_API_TOKEN: TOKEN,
      CLOUDFLARE_TURN_API_BASE: `${fake.base}/`,
    });
    await mintIceServers(config, 'client:abc', fetch, NOW);
    expect(fake.seen[0]?.path).toBe(`/v1/turn/keys/${KEY_ID}/credentials/generate-ice-servers`);
  });

  it('a rejected token is a 502 naming the provider and status, without the token', async () => {
    const { config } = await withFake(undefined, { CLOUDFLARE_TURN_KEY_API_TOKEN: 'wrong-token-value' });
    const err = await failure(mintIceServers(config, 'client:abc', fetch, NOW));
    expect(err).toMatchObject({ status: 502, code: 'upstream_failed' });
    expect(err.message).toBe('TURN provider cloudflare answered 401: {"error":"unauthorized"}');
    expect(err.message).not.toContain('wrong-token-value');
  });

  it('redacts the token if the upstream echoes it in an error body', async () => {
    const { config } = await withFake({ status: 500, body: `internal error for Bearer ${TOKEN}`, contentType: 'text/plain' });
    const err = await failure(mintIceServers(config, 'client:abc', fetch, NOW));
    expect(err.status).toBe(502);
    expect(err.message).toBe('TURN provider cloudflare answered 500: internal error for Bearer [redacted]');
  });

  it('an empty 503 body still gives a clear message', async () => {
    const { config } = await withFake({ status: 503, body: '' });
    const err = await failure(mintIceServers(config, 'client:abc', fetch, NOW));
    expect(err.message).toBe('TURN provider cloudflare answered 503: (empty body)');
  });

  it('malformed JSON is a 502', async () => {
    const { config } = await withFake({ status: 201, body: '{"iceServers": [' });
    const err = await failure(mintIceServers(config, 'client:abc', fetch, NOW));
    expect(err).toMatchObject({ status: 502, code: 'upstream_failed' });
    expect(err.message).toBe('TURN provider cloudflare answered 201 with a body that is not JSON');
  });

  it('JSON of the wrong shape is a 502 naming the field', async () => {
    const { config } = await withFake({ status: 201, body: JSON.stringify({ servers: [] }) });
    const err = await failure(mintIceServers(config, 'client:abc', fetch, NOW));
    expect(err.status).toBe(502);
    expect(err.message).toMatch(/^TURN provider cloudflare answered 201 with an unexpected body: iceServers: /);
  });

  it('an answer with only port-53 URLs is a 502 (nothing usable)', async () => {
    const body = JSON.stringify({ iceServers: [{ urls: ['turn:turn.cloudflare.com:53?transport=udp'], username: 'u', credential: 'c' }] });
    const { config } = await withFake({ status: 201, body });
    const err = await failure(mintIceServers(config, 'client:abc', fetch, NOW));
    expect(err.message).toBe('TURN provider cloudflare answered no ICE server a browser can use');
  });

  it('an upstream that never answers is a 502 after the timeout', async () => {
    const { fake, config } = await withFake('hang');
    const started = performance.now();
    const err = await failure(mintIceServers(config, 'client:abc', fetch, NOW, 200));
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(fake.seen).toHaveLength(1);
    expect(err).toMatchObject({ status: 502, code: 'upstream_failed' });
    expect(err.message).toBe('TURN provider cloudflare did not answer within 200 ms');
  });

  it('an upstream that stalls mid-body is a 502 after the timeout', async () => {
    const { config } = await withFake('hang-body');
    const err = await failure(mintIceServers(config, 'client:abc', fetch, NOW, 200));
    expect(err.message).toBe('TURN provider cloudflare did not answer within 200 ms');
  });

  it('an unreachable upstream is a 502', async () => {
    const { fake, config } = await withFake();
    await fake.close();
    const err = await failure(mintIceServers(config, 'client:abc', fetch, NOW));
    expect(err).toMatchObject({ status: 502, code: 'upstream_failed' });
    expect(err.message).toMatch(/^TURN provider cloudflare unreachable: /);
    expect(err.message).not.toContain(TOKEN);
  });

  it.each([
    [{ CLOUDFLARE_TURN_KEY_API_TOKEN: TOKEN }, 'CLOUDFLARE_TURN_KEY_ID is not set'],
    [{ CLOUDFLARE_TURN_KEY_ID: KEY_ID }, 'CLOUDFLARE_TURN_KEY_API_TOKEN is not set'],
  ])('missing settings are a 500 misconfigured and make no request: %j', async (vars, message) => {
    let calls = 0;
    const spy = (async () => {
      calls++;
      return new Response('{}');
    }) as typeof fetch;
    const err = await failure(mintIceServers(loadConfig({ TURN_PROVIDER: 'cloudflare', ...vars }), 'client:abc', spy, NOW));
    expect(err).toMatchObject({ status: 500, code: 'misconfigured', message });
    expect(calls).toBe(0);
  });
});
