import { env } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import { ErrorBody } from '@switchboard/protocol';
import { drainQueue, takeJobs } from './support/sqs.ts';
import { bearer, establish, mintToken, postOffer, request, tokenEnv, withEnv } from './support/edge-auth.ts';

beforeEach(drainQueue);

async function expectTooMany(res: Response) {
  expect(res.status).toBe(429);
  const retryAfter = Number(res.headers.get('Retry-After'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(ErrorBody.parse(await res.json()).error.code).toBe('too_many_sessions');
  // Refused before anything was queued.
  expect(await takeJobs(10, 0)).toEqual([]);
}

describe('MAX_SESSIONS_PER_CLIENT', () => {
  it('refuses the 6th live session of one token subject with 429 and Retry-After, and accepts one again once a session ends', async () => {
    const e = tokenEnv({ MAX_SESSIONS_PER_CLIENT: '5' });
    const identity = `dave-${crypto.randomUUID()}`;
    const token = await mintToken({ identity }, e);
    const live = [];
    for (let i = 0; i < 5; i++) live.push(await establish(bearer(token), e));
    // A refreshed token of the same subject counts against the same limit.
    await expectTooMany(await postOffer(bearer(await mintToken({ identity }, e)), e));
    // Another subject is not affected.
    const other = await establish(bearer(await mintToken({ identity: `erin-${crypto.randomUUID()}` }, e)), e);
    expect(other.res.status).toBe(201);

    const ended = await request(live[0]!.location, { method: 'DELETE', headers: bearer(token) }, e);
    expect(ended.status).toBe(200);
    const again = await establish(bearer(token), e);
    expect(again.res.status).toBe(201);
    await expectTooMany(await postOffer(bearer(token), e));
  });

  it('gives the slot back when a session never gets a worker (503)', async () => {
    const e = tokenEnv({ MAX_SESSIONS_PER_CLIENT: '1' });
    const token = await mintToken({ identity: `frank-${crypto.randomUUID()}` }, e);
    const timedOut = await postOffer(bearer(token), e);
    expect(timedOut.status).toBe(503);
    await drainQueue();
    const next = await establish(bearer(token), e);
    expect(next.res.status).toBe(201);
  });

  it('counts per client address with AUTH_MODE=none (CF-Connecting-IP, else the first X-Forwarded-For hop)', async () => {
    const e = withEnv({ MAX_SESSIONS_PER_CLIENT: '2' });
    const ip = `198.51.100.${1 + Math.floor(Math.random() * 250)}`;
    await establish({ 'CF-Connecting-IP': ip }, e);
    await establish({ 'X-Forwarded-For': `${ip}, 10.0.0.1` }, e);
    await expectTooMany(await postOffer({ 'CF-Connecting-IP': ip }, e));
    const elsewhere = await establish({ 'CF-Connecting-IP': '203.0.113.77' }, e);
    expect(elsewhere.res.status).toBe(201);
  });
});

describe('rate limits', () => {
  it('limits GET /v1/ice-servers per token subject (429 with Retry-After)', async () => {
    const e = tokenEnv({ ICE_LIMITER: env.TIGHT_LIMITER });
    const token = await mintToken({ identity: `gina-${crypto.randomUUID()}` }, e);
    const statuses: number[] = [];
    let last: Response | null = null;
    for (let i = 0; i < 3; i++) {
      // Each from another address: the limit follows the subject, not the IP.
      last = await request('/v1/ice-servers', { headers: { ...bearer(token), 'CF-Connecting-IP': `192.0.2.${i + 1}` } }, e);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(last!.headers.get('Retry-After')).toBe('60');
    expect(ErrorBody.parse(await last!.json()).error.code).toBe('rate_limited');
    const other = await mintToken({ identity: `hank-${crypto.randomUUID()}` }, e);
    expect((await request('/v1/ice-servers', { headers: bearer(other) }, e)).status).toBe(200);
  });

  it('limits /v1/tokens and /v1/calls per API key, whatever the address', async () => {
    const e = tokenEnv({ API_KEY_LIMITER: env.TIGHT_LIMITER });
    const post = (path: string, key: string, i: number, body: string) =>
      request(path, { method: 'POST', headers: { ...bearer(key), 'Content-Type': 'application/json', 'CF-Connecting-IP': `192.0.2.${i + 10}` }, body }, e);
    const tokens = [];
    for (let i = 0; i < 3; i++) tokens.push((await post('/v1/tokens', 'key-two', i, '{}')).status);
    expect(tokens).toEqual([201, 201, 429]);
    const calls: Response[] = [];
    for (let i = 0; i < 3; i++) calls.push(await post('/v1/calls', 'key-two', i, '{"to":"+15551230000"}'));
    expect(calls.map((r) => r.status)).toEqual([201, 201, 429]);
    expect(calls[2]!.headers.get('Retry-After')).toBe('60');
    // The other key has its own budget.
    expect((await post('/v1/tokens', 'key-one', 0, '{}')).status).toBe(201);
  });
});
