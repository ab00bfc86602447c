import { SELF } from 'cloudflare:test';
import { ErrorBody } from '@switchboard/protocol';
import { beforeEach, describe, expect, it } from 'vitest';
import { bearer, mintToken, request, tokenEnv } from './support/edge-auth.ts';
import { expectSilence, nextBinary, nextText, socketOf, type Socket } from './support/media.ts';
import { drainQueue, nextJob, takeJobs } from './support/sqs.ts';
import { claim, dialMedia, handover, type Claim } from './support/worker-client.ts';

/**
 * `GET /v1/stream`: a WebSocket audio client (docs/stream-protocol.md). Same auth as WHIP (here
 * AUTH_MODE=token: a client token in `Authorization` or, on the upgrade, `access_token`) and the
 * same per-client session limit. The client's socket terminates in the session's object, which
 * says `{"type":"session","id"}` first, keeps the client's `start` for the worker and relays the
 * rest both ways with the worker's media socket; the client closing ends the session.
 */

beforeEach(drainQueue);

const START = JSON.stringify({ type: 'start', format: { encoding: 'pcm16', sampleRate: 16000 } });

/** Opens `/v1/stream` with AUTH_MODE=token (through the app, with the test's env overrides). */
async function openStream(query = '', headers: Record<string, string> = {}, e: object = tokenEnv()): Promise<Socket> {
  return socketOf(await request(`/v1/stream${query}`, { headers: { Upgrade: 'websocket', ...headers } }, e));
}

/** The session id the edge announces first on a stream client's socket. */
async function announced(client: Socket): Promise<string> {
  const msg = JSON.parse(await nextText(client)) as { type: string; id: string };
  expect(msg.type).toBe('session');
  expect(msg.id).toMatch(/^s_[0-9a-f]{32}$/);
  return msg.id;
}

/** A stream client with a fresh identity, its session claimed by a worker whose media socket is open. */
async function claimedStream(): Promise<{ token: string; client: Socket; id: string; worker: Claim; media: Socket; resumeToken: string }> {
  const token = await mintToken({ identity: `stream-${crypto.randomUUID()}` });
  const client = await openStream('', bearer(token));
  expect(client.status).toBe(101);
  const id = await announced(client);
  const job = await nextJob(id);
  expect(job.kind).toBe('stream');
  const worker = await claim(job);
  const session = await handover(worker);
  expect(session).toMatchObject({ sessionId: id, kind: 'stream', iceServers: [] });
  const media = await dialMedia(id, session.resumeToken);
  expect(media.status).toBe(101);
  return { token, client, id, worker, media, resumeToken: session.resumeToken };
}

describe('GET /v1/stream: the upgrade and its auth', () => {
  it('needs a WebSocket upgrade (426)', async () => {
    const res = await SELF.fetch('http://edge.test/v1/stream');
    expect(res.status).toBe(426);
    expect(ErrorBody.parse(await res.json()).error.code).toBe('upgrade_required');
  });

  it('with AUTH_MODE=token refuses a missing or invalid credential (401, nothing queued) and takes a client token as a header or access_token', async () => {
    const none = await openStream();
    expect(none.status).toBe(401);
    const bad = await openStream('', bearer('not-a-token'));
    expect(bad.status).toBe(401);
    expect(await takeJobs(10, 0)).toEqual([]);
    const token = await mintToken({ identity: `stream-${crypto.randomUUID()}` });
    const byHeader = await openStream('', bearer(token));
    expect(byHeader.status).toBe(101);
    const byQuery = await openStream(`?access_token=${encodeURIComponent(token)}`);
    expect(byQuery.status).toBe(101);
    // Each got its own session, announced first.
    expect(await announced(byHeader)).not.toBe(await announced(byQuery));
  });

  it('applies the per-client session limit (429) and frees the slot when a stream ends', async () => {
    const e = tokenEnv({ MAX_SESSIONS_PER_CLIENT: '1' });
    const token = await mintToken({ identity: `limited-${crypto.randomUUID()}` }, e);
    const first = await openStream('', bearer(token), e);
    expect(first.status).toBe(101);
    const id = await announced(first);
    await nextJob(id);
    const second = await openStream('', bearer(token), e);
    expect(second.status).toBe(429);
    expect(second.body).toContain('too_many_sessions');
    // The client hangs up: its session ends and gives the slot back.
    first.ws!.close(1000, 'bye');
    await expect.poll(async () => (await openStream('', bearer(token), e)).status).toBe(101);
  });
});

describe('a stream session', () => {
  it("sends the client's start (kept while no worker listens) first to the worker's media socket, then relays binary both ways", async () => {
    const token = await mintToken({ identity: `stream-${crypto.randomUUID()}` });
    const client = await openStream('', bearer(token));
    const id = await announced(client);
    // Audio before start goes nowhere, and does not close the socket.
    client.send(new Uint8Array([1, 1, 1]));
    client.send(START);
    const worker = await claim(await nextJob(id));
    const session = await handover(worker);
    const media = await dialMedia(id, session.resumeToken);
    expect(await nextText(media)).toBe(START);
    client.send(new Uint8Array([0, 1, 2, 255]));
    expect([...(await nextBinary(media))]).toEqual([0, 1, 2, 255]);
    media.send(new Uint8Array([7, 7, 0]));
    expect([...(await nextBinary(client))]).toEqual([7, 7, 0]);
    expect(client.isClosed()).toBe(false);
  });

  it('relays text both ways verbatim, a worker message split into frames on newlines', async () => {
    const { client, media } = await claimedStream();
    client.send(START);
    expect(await nextText(media)).toBe(START);
    const event = '{"type":"chat","text":"hi"}';
    client.send(event);
    expect(await nextText(media)).toBe(event);
    media.send('{"type":"started"}\n{"type":"mark","name":"m1"}');
    expect([await nextText(client), await nextText(client)]).toEqual(['{"type":"started"}', '{"type":"mark","name":"m1"}']);
  });

  it("drops audio sent before start, and closes a client whose first text is not a start", async () => {
    const { client, media } = await claimedStream();
    client.send(new Uint8Array([9, 9]));
    await expectSilence(media);
    expect(client.isClosed()).toBe(false);
    client.send('{"type":"chat"}');
    expect(await client.closed).toMatchObject({ code: 1008, reason: expect.stringMatching(/first message must be/) });
  });

  it("reports kind 'stream' to its client (and to no other client), and ends as client_hangup when the client closes", async () => {
    const { token, client, id, worker, media } = await claimedStream();
    client.send(START);
    await nextText(media);
    const mine = await request(`/v1/sessions/${id}/status`, { headers: bearer(token) });
    expect(await mine.json()).toMatchObject({ id, kind: 'stream', state: 'claimed' });
    const stranger = await mintToken({ identity: `other-${crypto.randomUUID()}` });
    expect((await request(`/v1/sessions/${id}/status`, { headers: bearer(stranger) })).status).toBe(404);
    client.ws!.close(1000, 'done');
    expect(await worker.inbox.next()).toEqual({ type: 'hangup', reason: 'client_hangup' });
    expect((await media.closed).code).toBe(1000);
    const after = await request(`/v1/sessions/${id}/status`, { headers: bearer(token) });
    expect(await after.json()).toMatchObject({ kind: 'stream', state: 'ended', reason: 'client_hangup' });
  });

  it('a worker that dials its media socket again gets the stored start first; the older socket is replaced', async () => {
    const { client, id, media, resumeToken } = await claimedStream();
    client.send(START);
    expect(await nextText(media)).toBe(START);
    const again = await dialMedia(id, resumeToken);
    expect(await nextText(again)).toBe(START);
    expect(await media.closed).toEqual({ code: 1000, reason: 'replaced' });
    client.send(new Uint8Array([5]));
    expect([...(await nextBinary(again))]).toEqual([5]);
  });

  it('closes the client when no worker claims within CLAIM_TIMEOUT_MS', async () => {
    const token = await mintToken({ identity: `stream-${crypto.randomUUID()}` });
    const client = await openStream('', bearer(token));
    const id = await announced(client);
    expect(await client.closed).toMatchObject({ code: 1000, reason: 'claim_timeout' });
    const st = await request(`/v1/sessions/${id}/status`, { headers: bearer(token) });
    expect(await st.json()).toMatchObject({ state: 'ended', reason: 'claim_timeout' });
  });
});
