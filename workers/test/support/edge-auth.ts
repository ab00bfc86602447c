import { env } from 'cloudflare:test';
import { expect } from 'vitest';
import { TokenResponse } from '@switchboard/protocol';
import { app } from '../../src/app.ts';
import { ANSWER, chromeOffer } from '../../../test/fixtures/sdp.ts';
import { nextJob } from './sqs.ts';
import { claim, type Claim } from './worker-client.ts';

export const EDGE = 'http://edge.test';

/** The Worker's env with overrides (a fresh env object gets its own parsed config). */
export const withEnv = (vars: Record<string, unknown> = {}) => ({ ...env, ...vars });
/** The same Worker with AUTH_MODE=token. */
export const tokenEnv = (vars: Record<string, unknown> = {}) => withEnv({ AUTH_MODE: 'token', ...vars });

export function request(path: string, init: RequestInit = {}, e: object = tokenEnv()) {
  return app.request(`${EDGE}${path}`, init, e);
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** A client token minted through `POST /v1/tokens` with API key `key-one`. */
export async function mintToken(body: { identity?: string; ttlMs?: number } = {}, e: object = tokenEnv()): Promise<string> {
  const res = await request(
    '/v1/tokens',
    { method: 'POST', headers: { ...bearer('key-one'), 'Content-Type': 'application/json' }, body: JSON.stringify(body) },
    e,
  );
  expect(res.status).toBe(201);
  return TokenResponse.parse(await res.json()).token;
}

export function postOffer(headers: Record<string, string>, e: object = tokenEnv()) {
  return request('/v1/sessions', { method: 'POST', headers: { 'Content-Type': 'application/sdp', ...headers }, body: chromeOffer() }, e);
}

/** A WHIP POST served as a worker would (take the job, claim, answer): the session is claimed. */
export async function establish(headers: Record<string, string>, e: object = tokenEnv()): Promise<{ res: Response; location: string; c: Claim }> {
  const pending = postOffer(headers, e);
  const job = await nextJob();
  const c = await claim(job);
  expect(c.status).toBe(101);
  await c.inbox.next();
  c.send({ type: 'answer', sdp: ANSWER });
  const res = await pending;
  expect(res.status).toBe(201);
  return { res, location: res.headers.get('Location')!, c };
}
