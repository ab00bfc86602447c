import { env, runDurableObjectAlarm, runInDurableObject, SELF } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import { CallResponse, ErrorBody, SessionStatus } from '@switchboard/protocol';
import { ANSWER, chromeOffer } from '../../test/fixtures/sdp.ts';
import { RESUME_WINDOW_MS, type SessionRecord } from '../src/session/record.ts';
import { bearer, establish as establishWithToken, mintToken, request } from './support/edge-auth.ts';
import { drainQueue, nextJob, takeJobs } from './support/sqs.ts';
import { claim, type Claim } from './support/worker-client.ts';

const EDGE = 'http://edge.test';
const ANSWER_2 = ANSWER.replace('o=- 1 1', 'o=- 2 2');
const ANSWER_3 = ANSWER.replace('o=- 1 1', 'o=- 3 3');

beforeEach(drainQueue);

/** A WHIP session served by a fake worker that claimed, got the session, and answered. */
async function establish(workerId = 'worker-a') {
  const pending = SELF.fetch(`${EDGE}/v1/sessions`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: chromeOffer() });
  const job = await nextJob();
  const c = await claim(job, workerId);
  expect(c.status).toBe(101);
  const session = await c.inbox.next();
  if (session.type !== 'session') throw new Error(`expected session, got ${session.type}`);
  c.send({ type: 'answer', sdp: ANSWER });
  const res = await pending;
  expect(res.status).toBe(201);
  c.send({ type: 'state', state: 'live' });
  return { id: job.sessionId, location: res.headers.get('Location')!, etag: res.headers.get('ETag')!, c, session };
}

function resume(id: string, body: string, headers: Record<string, string> = {}) {
  return SELF.fetch(`${EDGE}/v1/sessions/${id}/resume`, { method: 'POST', headers: { 'Content-Type': 'application/sdp', ...headers }, body });
}

const status = async (id: string) => SessionStatus.parse(await (await SELF.fetch(`${EDGE}/v1/sessions/${id}/status`)).json());

const trickle = (location: string, ufrag: string) =>
  SELF.fetch(`${EDGE}${location}`, {
    method: 'PATCH',
    headers: { 'Content-Type': 'application/trickle-ice-sdpfrag' },
    body: `a=ice-ufrag:${ufrag}\r\na=ice-pwd:Xz8kVh4mQ2pL7rT9wE3yU6iO\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:1 1 udp 2122260223 192.0.2.10 50000 typ host\r\n`,
  });

/** Drops the worker's control WebSocket and waits until the session has recorded the loss. */
async function loseWorker(c: Claim, id: string) {
  c.ws!.close(1011, 'worker crashed');
  await expect.poll(async () => (await status(id)).detail ?? '').toContain('control WebSocket closed');
}

const stubOf = (id: string) => env.CALL_SESSION.get(env.CALL_SESSION.idFromName(id));

/** The stored record, as the session's Durable Object keeps it. */
const record = (id: string) => runInDurableObject(stubOf(id), (_o, state) => state.storage.kv.get<SessionRecord>('rec')!);

/** Moves the session's worker loss `ms` into the past (in memory and storage), as if that time had gone by. */
async function backdateLoss(id: string, ms: number) {
  await runInDurableObject(stubOf(id), (instance, state) => {
    const o = (instance as unknown as { host: { rec: SessionRecord } }).host;
    o.rec = { ...o.rec, controlLostAt: o.rec.controlLostAt! - ms };
    state.storage.kv.put('rec', o.rec);
  });
}

describe('POST /v1/sessions/{id}/resume', () => {
  it('forwards the new offer to a live worker and returns its answer: 201, same session, new ETag', async () => {
    const { id, location, etag, c } = await establish();
    const offer = chromeOffer({ ufrag: 'nEw9' });
    const pending = resume(id, offer);
    expect(await c.inbox.next()).toEqual({ type: 'offer', offer });
    c.send({ type: 'answer', sdp: ANSWER_2 });
    const res = await pending;
    expect(res.status).toBe(201);
    expect(res.headers.get('Content-Type')).toBe('application/sdp');
    expect(res.headers.get('Location')).toBe(location);
    expect(res.headers.get('ETag')).toMatch(/^"[0-9a-f-]{36}"$/);
    expect(res.headers.get('ETag')).not.toBe(etag);
    expect(await res.text()).toBe(ANSWER_2);
    // Trickle now belongs to the new offer's ICE credentials.
    expect((await trickle(location, 'nEw9')).status).toBe(204);
    expect(await c.inbox.next()).toMatchObject({ type: 'candidates', ufrag: 'nEw9' });
    expect((await trickle(location, 'aB3d')).status).toBe(400);
    expect(await status(id)).toMatchObject({ state: 'live', workerId: 'worker-a' });
  });

  it('re-queues a lost worker\'s session as a takeover carrying the new offer and the last checkpoint; the new worker\'s answer completes it', async () => {
    const { id, location, etag, c, session } = await establish('worker-a');
    const checkpoint = JSON.stringify({ turns: 2, notes: ['hello', 'é'] });
    c.send({ type: 'checkpoint', state: checkpoint });
    await expect.poll(async () => (await record(id)).checkpoint).toBe(checkpoint);
    await loseWorker(c, id);

    const offer = chromeOffer({ ufrag: 'tAk3' });
    const pending = resume(id, offer);
    const job = await nextJob(id);
    expect(job).toMatchObject({ sessionId: id, kind: 'webrtc' });
    // The lost worker may no longer dial back in: its peer connection is gone.
    expect((await claim({ sessionId: id, controlToken: session.resumeToken }, 'worker-a')).status).toBe(409);
    const b = await claim(job, 'worker-b');
    expect(b.status).toBe(101);
    expect(await b.inbox.next()).toMatchObject({ type: 'session', sessionId: id, kind: 'webrtc', offer, takeover: true, state: checkpoint });
    b.send({ type: 'answer', sdp: ANSWER_2 });
    const res = await pending;
    expect(res.status).toBe(201);
    expect(res.headers.get('Location')).toBe(location);
    expect(res.headers.get('ETag')).not.toBe(etag);
    expect(await res.text()).toBe(ANSWER_2);
    const st = await status(id);
    expect(st).toMatchObject({ state: 'live', workerId: 'worker-b' });
    expect(st.detail).toBeUndefined();
    expect((await trickle(location, 'tAk3')).status).toBe(204);
    expect(await b.inbox.next()).toMatchObject({ type: 'candidates', ufrag: 'tAk3' });

    // A later resume goes to the new worker, which now holds the session.
    const again = resume(id, chromeOffer({ ufrag: 'aGa1' }));
    expect(await b.inbox.next()).toMatchObject({ type: 'offer' });
    b.send({ type: 'answer', sdp: ANSWER_3 });
    expect(await (await again).text()).toBe(ANSWER_3);
  });

  it('answers 503 no_worker with Retry-After when nobody takes the session over, and a retry within the window still succeeds', async () => {
    const { id, c } = await establish();
    await loseWorker(c, id);
    const started = Date.now();
    const res = await resume(id, chromeOffer({ ufrag: 'r3Try' }));
    expect(res.status).toBe(503);
    expect(res.headers.get('Retry-After')).toBeTruthy();
    expect(ErrorBody.parse(await res.json()).error.code).toBe('no_worker');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    // The job was on the queue (and re-sent while unclaimed); drop those copies.
    const copies = await takeJobs(10, 1);
    expect(copies.length).toBeGreaterThanOrEqual(1);
    expect(copies.every((g) => g.job.sessionId === id)).toBe(true);
    await drainQueue();
    await new Promise((r) => setTimeout(r, 1500));
    expect(await status(id)).toMatchObject({ state: 'live' });

    const pending = resume(id, chromeOffer({ ufrag: 'r3Try' }));
    const b = await claim(await nextJob(id), 'worker-b');
    expect(b.status).toBe(101);
    expect(await b.inbox.next()).toMatchObject({ type: 'session', takeover: true });
    b.send({ type: 'answer', sdp: ANSWER_2 });
    expect((await pending).status).toBe(201);
  });

  it('hands a takeover the offer when the worker drops while the resume waits for its answer', async () => {
    const { id, c } = await establish();
    const offer = chromeOffer({ ufrag: 'dR0p' });
    const pending = resume(id, offer);
    expect(await c.inbox.next()).toMatchObject({ type: 'offer', offer });
    c.ws!.close(1011, 'crashed while answering');
    const b = await claim(await nextJob(id), 'worker-b');
    expect(await b.inbox.next()).toMatchObject({ type: 'session', offer, takeover: true });
    b.send({ type: 'answer', sdp: ANSWER_2 });
    const res = await pending;
    expect(res.status).toBe(201);
    expect(await res.text()).toBe(ANSWER_2);
  });

  it('ends the session as worker_lost when the window passes, and then answers 410 gone', async () => {
    const { id, c } = await establish();
    await loseWorker(c, id);
    await backdateLoss(id, RESUME_WINDOW_MS);
    expect(await runDurableObjectAlarm(stubOf(id))).toBe(true);
    expect(await status(id)).toMatchObject({ state: 'ended', reason: 'worker_lost' });
    const res = await resume(id, chromeOffer());
    expect(res.status).toBe(410);
    expect(ErrorBody.parse(await res.json()).error.code).toBe('gone');
    // Nothing was queued for it.
    expect(await takeJobs(10, 0)).toEqual([]);
  });

  it('answers 410 for a resume after the window even before the alarm has run, and ends the session', async () => {
    const { id, c } = await establish();
    await loseWorker(c, id);
    await backdateLoss(id, RESUME_WINDOW_MS + 1);
    const res = await resume(id, chromeOffer());
    expect(res.status).toBe(410);
    expect(await status(id)).toMatchObject({ state: 'ended', reason: 'worker_lost' });
  });

  it('answers 410 for a session the client hung up', async () => {
    const { id, location } = await establish();
    expect((await SELF.fetch(`${EDGE}${location}`, { method: 'DELETE' })).status).toBe(200);
    expect((await resume(id, chromeOffer())).status).toBe(410);
  });

  it('refuses a bad offer (400), a wrong content type (415), unknown and malformed ids (404)', async () => {
    const { id } = await establish();
    const bad = await resume(id, 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n');
    expect(bad.status).toBe(400);
    expect(ErrorBody.parse(await bad.json()).error.code).toBe('bad_sdp');
    expect((await resume(id, chromeOffer({ fingerprint: false }))).status).toBe(400);
    expect((await resume(id, chromeOffer(), { 'Content-Type': 'text/plain' })).status).toBe(415);
    expect((await resume(`s_${'0'.repeat(32)}`, chromeOffer())).status).toBe(404);
    expect((await resume('not-a-session', chromeOffer())).status).toBe(404);
  });

  it('refuses to resume a phone session (409)', async () => {
    const placed = await request('/v1/calls', {
      method: 'POST',
      headers: { ...bearer('key-one'), 'Content-Type': 'application/json' },
      body: JSON.stringify({ to: '+15551230000' }),
    });
    expect(placed.status).toBe(201);
    const { sessionId } = CallResponse.parse(await placed.json());
    const res = await request(`/v1/sessions/${sessionId}/resume`, {
      method: 'POST',
      headers: { ...bearer('key-one'), 'Content-Type': 'application/sdp' },
      body: chromeOffer(),
    });
    expect(res.status).toBe(409);
    expect(ErrorBody.parse(await res.json()).error.code).toBe('conflict');
  });

  it('needs the same auth as the session: 401 without a token, 404 for another client', async () => {
    const alice = await mintToken({ identity: 'alice' });
    const { location, c } = await establishWithToken(bearer(alice));
    const post = (headers: Record<string, string>) =>
      request(`${location}/resume`, { method: 'POST', headers: { 'Content-Type': 'application/sdp', ...headers }, body: chromeOffer({ ufrag: 'aL1c' }) });
    expect((await post({})).status).toBe(401);
    expect((await post(bearer('not.a.token'))).status).toBe(401);
    expect((await post(bearer(await mintToken({ identity: 'bob' })))).status).toBe(404);
    const pending = post(bearer(alice));
    expect(await c.inbox.until((m) => m.type === 'offer')).toMatchObject({ type: 'offer' });
    c.send({ type: 'answer', sdp: ANSWER_2 });
    expect((await pending).status).toBe(201);
  });
});

describe('checkpoints', () => {
  it('keeps the latest checkpoint and hands it to every worker that takes over; refuses state that is not JSON or too large', async () => {
    const { id, c } = await establish();
    c.send({ type: 'checkpoint', state: '{"turn":1}' });
    c.send({ type: 'checkpoint', state: '{"turn":2}' });
    await expect.poll(async () => (await record(id)).checkpoint).toBe('{"turn":2}');
    c.send({ type: 'checkpoint', state: 'not json' });
    expect(await c.inbox.next()).toMatchObject({ type: 'error', message: expect.stringContaining('not JSON') });
    // Under the schema's 65,536 characters, over 65,536 bytes of UTF-8.
    c.send({ type: 'checkpoint', state: JSON.stringify('é'.repeat(40_000)) });
    expect(await c.inbox.next()).toMatchObject({ type: 'error', message: expect.stringContaining('bytes') });
    expect((await record(id)).checkpoint).toBe('{"turn":2}');
  });
});
