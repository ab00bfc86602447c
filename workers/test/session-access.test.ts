import { beforeEach, describe, expect, it } from 'vitest';
import { CallResponse, ErrorBody, SessionStatus } from '@switchboard/protocol';
import { drainQueue } from './support/sqs.ts';
import { bearer, establish, mintToken, request } from './support/edge-auth.ts';

beforeEach(drainQueue);

const status = (location: string, token: string) => request(`${location}/status`, { headers: bearer(token) });
const hangup = (location: string, token: string) => request(location, { method: 'DELETE', headers: bearer(token) });
const trickle = (location: string, token: string) =>
  request(location, {
    method: 'PATCH',
    headers: { ...bearer(token), 'Content-Type': 'application/trickle-ice-sdpfrag' },
    body: 'a=mid:0\r\na=candidate:1 1 udp 2122260223 192.0.2.10 50000 typ host\r\n',
  });

/** The body of a 404 for a session id that does not exist: a hidden session must look the same. */
async function unknownSessionBody(token: string) {
  const res = await status(`/v1/sessions/s_${'0'.repeat(32)}`, token);
  expect(res.status).toBe(404);
  return ErrorBody.parse(await res.json());
}

describe('phone sessions (AUTH_MODE=token)', () => {
  it('are hidden from client tokens (404 as for an unknown session) and readable and ended with an API key', async () => {
    const placed = await request('/v1/calls', {
      method: 'POST',
      headers: { ...bearer('key-one'), 'Content-Type': 'application/json' },
      body: JSON.stringify({ to: '+15551230000' }),
    });
    expect(placed.status).toBe(201);
    const { sessionId } = CallResponse.parse(await placed.json());
    const location = `/v1/sessions/${sessionId}`;
    const token = await mintToken({ identity: 'mallory' });
    const hidden = await unknownSessionBody(token);

    const read = await status(location, token);
    expect(read.status).toBe(404);
    expect(ErrorBody.parse(await read.json())).toEqual(hidden);
    const del = await hangup(location, token);
    expect(del.status).toBe(404);
    expect(ErrorBody.parse(await del.json())).toEqual(hidden);
    expect((await trickle(location, token)).status).toBe(404);

    const byKey = await status(location, 'key-two');
    expect(byKey.status).toBe(200);
    expect(SessionStatus.parse(await byKey.json())).toMatchObject({ kind: 'phone', state: 'queued' });
    const ended = await hangup(location, 'key-one');
    expect(ended.status).toBe(200);
    expect(SessionStatus.parse(await ended.json())).toMatchObject({ state: 'ended', reason: 'client_hangup' });
  });
});

describe('WebRTC sessions are bound to the client token subject', () => {
  it('a refreshed token of the same subject controls the session; another subject gets 404', async () => {
    const first = await mintToken({ identity: 'alice' });
    const { location, c } = await establish(bearer(first));
    const refreshed = await mintToken({ identity: 'alice' });
    expect(refreshed).not.toBe(first);
    const other = await mintToken({ identity: 'bob' });

    expect((await status(location, refreshed)).status).toBe(200);
    expect((await trickle(location, refreshed)).status).toBe(204);
    expect(await c.inbox.next()).toMatchObject({ type: 'candidates' });

    for (const res of [await status(location, other), await trickle(location, other), await hangup(location, other)]) {
      expect(res.status).toBe(404);
      expect(ErrorBody.parse(await res.json())).toEqual(await unknownSessionBody(other));
    }
    expect(SessionStatus.parse(await (await status(location, first)).json()).state).toBe('claimed');

    const del = await hangup(location, refreshed);
    expect(del.status).toBe(200);
    expect(await c.inbox.next()).toEqual({ type: 'hangup', reason: 'client_hangup' });
  });

  it('two tokens minted without an identity do not control each other\'s sessions', async () => {
    const a = await mintToken();
    const b = await mintToken();
    const { location } = await establish(bearer(a));
    expect((await status(location, b)).status).toBe(404);
    expect((await hangup(location, b)).status).toBe(404);
    expect((await status(location, a)).status).toBe(200);
    expect((await hangup(location, a)).status).toBe(200);
  });
});

describe('session status by caller', () => {
  it('shows client-token callers no workerId or detail; API-key callers see both', async () => {
    const token = await mintToken({ identity: 'carol' });
    const { location, c } = await establish(bearer(token));
    c.send({ type: 'end', detail: 'handler threw: TypeError at internal/handler.ts:42' });
    await expect.poll(async () => SessionStatus.parse(await (await status(location, 'key-one')).json()).state).toBe('ended');

    const forClient = SessionStatus.parse(await (await status(location, token)).json());
    expect(forClient).toMatchObject({ state: 'ended', reason: 'worker_ended' });
    expect(forClient).not.toHaveProperty('workerId');
    expect(forClient).not.toHaveProperty('detail');

    const forServer = SessionStatus.parse(await (await status(location, 'key-one')).json());
    expect(forServer).toMatchObject({ workerId: 'w-test', detail: 'handler threw: TypeError at internal/handler.ts:42' });
  });
});
