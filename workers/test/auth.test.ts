import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { TokenResponse } from '@switchboard/protocol';
import { app } from '../src/app.ts';

const EDGE = 'http://edge.test';
/** The same Worker with AUTH_MODE=token (a fresh env object gets its own parsed config). */
const tokenEnv = () => ({ ...env, AUTH_MODE: 'token' });

function req(path: string, init: RequestInit = {}, e: object = tokenEnv()) {
  return app.request(`${EDGE}${path}`, init, e);
}

async function mintToken(key = 'key-one', body?: object) {
  const init: RequestInit = { method: 'POST', headers: { Authorization: `Bearer ${key}` } };
  if (body) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
  }
  return req('/v1/tokens', init);
}

describe('AUTH_MODE=token', () => {
  it('mints client tokens for a valid API key only (401 otherwise)', async () => {
    const res = await mintToken('key-two', { ttlMs: 60_000, identity: 'alice' });
    expect(res.status).toBe(201);
    const t = TokenResponse.parse(await res.json());
    expect(t.expiresAt).toBeGreaterThan(Date.now() + 50_000);
    expect(t.expiresAt).toBeLessThanOrEqual(Date.now() + 60_000);
    const bad = await mintToken('key-three');
    expect(bad.status).toBe(401);
    expect(bad.headers.get('WWW-Authenticate')).toBe('Bearer');
    expect((await req('/v1/tokens', { method: 'POST' })).status).toBe(401);
  });

  it('rejects malformed token requests with 400 and wrong content types with 415', async () => {
    const bad = await mintToken('key-one', { ttlMs: -5 });
    expect(bad.status).toBe(400);
    const wrongType = await req('/v1/tokens', { method: 'POST', headers: { Authorization: 'Bearer key-one', 'Content-Type': 'text/plain' }, body: '{}' });
    expect(wrongType.status).toBe(415);
    const notJson = await req('/v1/tokens', { method: 'POST', headers: { Authorization: 'Bearer key-one', 'Content-Type': 'application/json' }, body: '{' });
    expect(notJson.status).toBe(400);
  });

  it('guards the browser routes with client tokens', async () => {
    expect((await req('/v1/ice-servers')).status).toBe(401);
    expect((await req('/v1/ice-servers', { headers: { Authorization: 'Bearer not.a.jwt' } })).status).toBe(401);
    const { token } = TokenResponse.parse(await (await mintToken()).json());
    const ok = await req('/v1/ice-servers', { headers: { Authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ iceServers: [], expiresAt: null });
    expect((await req('/v1/sessions', { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: 'v=0' })).status).toBe(401);
    expect((await req(`/v1/sessions/s_${'1'.repeat(32)}/status`)).status).toBe(401);
  });

  it('refuses an expired client token', async () => {
    const { mintClientToken } = await import('../src/auth/client-token.ts');
    const old = await mintClientToken('test-token-secret', 'bob', 1000, Date.now() - 10_000);
    expect((await req('/v1/ice-servers', { headers: { Authorization: `Bearer ${old.token}` } })).status).toBe(401);
  });

  it('guards outbound calls with an API key', async () => {
    const res = await req('/v1/calls', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"to":"+15551230000"}' });
    expect(res.status).toBe(401);
  });
});

describe('rate limiting', () => {
  it('answers 429 with Retry-After once a client address exceeds the session creation limit', async () => {
    const e = { ...env, CREATE_LIMITER: env.TIGHT_LIMITER };
    const statuses: number[] = [];
    let last: Response | null = null;
    for (let i = 0; i < 4; i++) {
      // A wrong Content-Type (415) is answered after the limiter has counted the request.
      last = await app.request(`${EDGE}/v1/sessions`, { method: 'POST', headers: { 'CF-Connecting-IP': '203.0.113.9', 'Content-Type': 'text/plain' }, body: 'x' }, e);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([415, 415, 429, 429]);
    expect(last!.headers.get('Retry-After')).toBe('60');
    expect(await last!.json()).toMatchObject({ error: { code: 'rate_limited' } });
  });
});

describe('fail closed', () => {
  const V1 = [
    ['GET', '/v1/ice-servers'],
    ['POST', '/v1/sessions'],
    ['GET', `/v1/sessions/s_${'1'.repeat(32)}/status`],
    ['DELETE', `/v1/sessions/s_${'1'.repeat(32)}`],
    ['POST', '/v1/tokens'],
    ['POST', '/v1/calls'],
  ] as const;

  it('answers every /v1 route with 500 naming AUTH_MODE and PUBLIC_BASE_URL when AUTH_MODE=none has a public PUBLIC_BASE_URL', async () => {
    for (const url of ['https://voice.example.com', 'http://10.0.0.5:8787', 'http://0.0.0.0:8787']) {
      const e = { ...env, AUTH_MODE: 'none', PUBLIC_BASE_URL: url };
      for (const [method, path] of V1) {
        const res = await app.request(`${EDGE}${path}`, { method }, e);
        expect(res.status, `${method} ${path} with ${url}`).toBe(500);
        const { error } = (await res.json()) as { error: { code: string; message: string } };
        expect(error.code).toBe('misconfigured');
        expect(error.message).toContain('AUTH_MODE');
        expect(error.message).toContain('PUBLIC_BASE_URL');
      }
    }
  });

  it('accepts AUTH_MODE=none on loopback URLs, and AUTH_MODE=token on a public one', async () => {
    for (const url of ['http://127.0.0.1:8787', 'http://127.8.9.10', 'http://localhost:8787', 'http://[::1]:8787']) {
      const res = await app.request(`${EDGE}/v1/ice-servers`, {}, { ...env, AUTH_MODE: 'none', PUBLIC_BASE_URL: url });
      expect(res.status, url).toBe(200);
    }
    const e = { ...env, AUTH_MODE: 'token', PUBLIC_BASE_URL: 'https://voice.example.com' };
    expect((await app.request(`${EDGE}/v1/ice-servers`, {}, e)).status).toBe(401);
    expect((await app.request(`${EDGE}/v1/tokens`, { method: 'POST', headers: { Authorization: 'Bearer key-one' } }, e)).status).toBe(201);
  });
});

describe('routing', () => {
  it('serves /healthz and answers unknown routes with a JSON 404', async () => {
    const h = await req('/healthz');
    expect(await h.json()).toEqual({ ok: true });
    const nf = await req('/nope');
    expect(nf.status).toBe(404);
    expect(await nf.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('names a misconfigured variable with a 500', async () => {
    const res = await app.request(`${EDGE}/v1/ice-servers`, {}, { ...env, TURN_PROVIDER: 'carrier-pigeon' });
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ error: { code: 'misconfigured', message: expect.stringContaining('TURN_PROVIDER') } });
  });
});
