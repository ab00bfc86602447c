import { env, runDurableObjectAlarm, runInDurableObject, SELF } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import { mintControlToken } from '@switchboard/protocol';
import { drainQueue, nextJob } from './support/sqs.ts';
import { ANSWER, chromeOffer } from '../../test/fixtures/sdp.ts';
import { claim } from './support/worker-client.ts';
import { CONTROL_GRACE_MS, RESUME_WINDOW_MS, type SessionRecord } from '../src/session/record.ts';

const EDGE = 'http://edge.test';

beforeEach(drainQueue);

function startSession() {
  return SELF.fetch(`${EDGE}/v1/sessions`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: chromeOffer() });
}

describe('claiming a session over the control WebSocket', () => {
  it('first claim wins; a duplicate job delivery claimed by another worker gets 409', async () => {
    const pending = startSession();
    const job = await nextJob();
    const [a, b] = await Promise.all([claim(job, 'worker-a'), claim(job, 'worker-b')]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([101, 409]);
    const winner = a.status === 101 ? a : b;
    const loser = a.status === 101 ? b : a;
    expect(JSON.parse(loser.body)).toMatchObject({ error: { code: 'conflict' } });
    await winner.inbox.next();
    winner.send({ type: 'answer', sdp: ANSWER });
    expect((await pending).status).toBe(201);
    // A third dial after the answer is refused too.
    expect((await claim(job, 'worker-c')).status).toBe(409);
  });

  it('refuses bad tokens (401), tokens for another session (401), expired tokens (410), unknown sessions (404)', async () => {
    const pending = startSession();
    const job = await nextJob();
    expect((await claim({ ...job, controlToken: 'garbage-token-garbage' })).status).toBe(401);
    const forged = await mintControlToken('not-the-secret', job.sessionId, job.expiresAt);
    expect((await claim({ ...job, controlToken: forged })).status).toBe(401);
    const other = `s_${'a'.repeat(32)}`;
    const forOther = await mintControlToken('test-control-secret', other, job.expiresAt);
    expect((await claim({ sessionId: job.sessionId, controlToken: forOther })).status).toBe(401);
    expect((await claim({ sessionId: other, controlToken: forOther })).status).toBe(404);
    const expired = await mintControlToken('test-control-secret', job.sessionId, Date.now() - 1);
    expect((await claim({ ...job, controlToken: expired })).status).toBe(410);
    // The real token still wins after all that.
    const c = await claim(job);
    expect(c.status).toBe(101);
    await c.inbox.next();
    c.send({ type: 'answer', sdp: ANSWER });
    expect((await pending).status).toBe(201);
  });

  it('requires a WebSocket upgrade (426) and a token (401)', async () => {
    const pending = startSession();
    const job = await nextJob();
    const plain = await SELF.fetch(`${EDGE}/internal/sessions/${job.sessionId}/control`);
    expect(plain.status).toBe(426);
    const noToken = await SELF.fetch(`${EDGE}/internal/sessions/${job.sessionId}/control`, { headers: { Upgrade: 'websocket' } });
    expect(noToken.status).toBe(401);
    const c = await claim(job);
    await c.inbox.next();
    c.send({ type: 'answer', sdp: ANSWER });
    await pending;
  });

  it('keeps the alarm set at the claim through the answer, and moves it when the session ends', async () => {
    const pending = startSession();
    const job = await nextJob();
    const stub = env.CALL_SESSION.get(env.CALL_SESSION.idFromName(job.sessionId));
    const c = await claim(job);
    await c.inbox.next();
    // Count the object's setAlarm calls from here on.
    const calls: number[] = [];
    const read = () =>
      runInDurableObject(stub, async (_o, state) => ({ alarm: await state.storage.getAlarm(), rec: state.storage.kv.get<{ endsAt: number; endedAt?: number }>('rec') }));
    await runInDurableObject(stub, (_o, state) => {
      const set = state.storage.setAlarm.bind(state.storage);
      state.storage.setAlarm = (t, o) => (calls.push(Number(t)), set(t, o));
    });
    const claimed = await read();
    expect(claimed.alarm).toBe(claimed.rec!.endsAt);
    c.send({ type: 'answer', sdp: ANSWER });
    const res = await pending;
    expect(res.status).toBe(201);
    expect(calls).toEqual([]);
    expect((await read()).alarm).toBe(claimed.rec!.endsAt);
    expect((await SELF.fetch(`${EDGE}${res.headers.get('Location')}`, { method: 'DELETE' })).status).toBe(200);
    const ended = await read();
    expect(ended.rec!.endedAt).toBeDefined();
    expect(calls).toHaveLength(1);
    expect(ended.alarm).toBe(calls[0]);
    expect(ended.alarm).toBeGreaterThan(ended.rec!.endedAt!);
  });

  it('keeps a WebRTC session whose worker dropped and did not dial back in resumable past the grace, refuses the worker after it, and ends it as worker_lost after the resume window', async () => {
    const pending = startSession();
    const job = await nextJob();
    const c = await claim(job, 'worker-a');
    const session = await c.inbox.next();
    if (session.type !== 'session') throw new Error('expected the session');
    c.send({ type: 'answer', sdp: ANSWER });
    await pending;
    c.ws!.close(1011, 'crash');
    const status = async () => (await SELF.fetch(`${EDGE}/v1/sessions/${job.sessionId}/status`)).json<{ state: string; reason?: string }>();
    await new Promise((r) => setTimeout(r, 500));
    expect((await status()).state).toBe('claimed');
    await new Promise((r) => setTimeout(r, CONTROL_GRACE_MS + 500));
    expect(await status()).toMatchObject({ state: 'claimed' });
    expect((await status()).reason).toBeUndefined();
    expect((await claim({ sessionId: job.sessionId, controlToken: session.resumeToken }, 'worker-a')).status).toBe(410);
    // The resume window running out (its loss moved into the past rather than waited for).
    const stub = env.CALL_SESSION.get(env.CALL_SESSION.idFromName(job.sessionId));
    await runInDurableObject(stub, (instance, state) => {
      const o = (instance as unknown as { host: { rec: SessionRecord } }).host;
      o.rec = { ...o.rec, controlLostAt: o.rec.controlLostAt! - RESUME_WINDOW_MS };
      state.storage.kv.put('rec', o.rec);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await status()).toMatchObject({ state: 'ended', reason: 'worker_lost' });
  });

  it('answers a worker\'s ice.refresh with fresh server-side credentials', async () => {
    const pending = startSession();
    const job = await nextJob();
    const c = await claim(job);
    const session = await c.inbox.next();
    expect(session).toMatchObject({ type: 'session', iceServers: [], iceServersExpiresAt: null });
    c.send({ type: 'answer', sdp: ANSWER });
    await pending;
    c.send({ type: 'ice.refresh' });
    expect(await c.inbox.next()).toEqual({ type: 'ice-servers', iceServers: [], expiresAt: null });
  });

  it('lets the claiming worker dial back in with its resume token after a drop, and nobody else', async () => {
    const pending = startSession();
    const job = await nextJob();
    const c = await claim(job, 'worker-a');
    const session = await c.inbox.next();
    if (session.type !== 'session') throw new Error('expected the session');
    c.send({ type: 'answer', sdp: ANSWER });
    const res = await pending;
    c.send({ type: 'state', state: 'live' });
    c.ws!.close(1011, 'network blip');
    await new Promise((r) => setTimeout(r, 200));
    const resumeAs = (worker: string) => claim({ sessionId: job.sessionId, controlToken: session.resumeToken }, worker);
    expect((await resumeAs('worker-b')).status).toBe(409);
    const back = await resumeAs('worker-a');
    expect(back.status).toBe(101);
    expect((await resumeAs('worker-a')).status).toBe(409);
    // The session carries on: trickled candidates reach the resumed connection, and it stays live past the grace period.
    const patch = await SELF.fetch(`${EDGE}${res.headers.get('Location')}`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/trickle-ice-sdpfrag' },
      body: 'a=mid:0\r\na=candidate:1 1 udp 2122260223 192.0.2.10 50000 typ host\r\n',
    });
    expect(patch.status).toBe(204);
    expect(await back.inbox.next()).toMatchObject({ type: 'candidates' });
    await new Promise((r) => setTimeout(r, 5500));
    const st = await (await SELF.fetch(`${EDGE}/v1/sessions/${job.sessionId}/status`)).json<{ state: string; detail?: string }>();
    expect(st.state).toBe('live');
    expect(st.detail).toBeUndefined();
    // A resume token is not a claim token for another session.
    expect((await claim({ sessionId: `s_${'e'.repeat(32)}`, controlToken: session.resumeToken })).status).toBe(401);
  });

  it('ends the session when the worker says so, and answers bad control messages with an error', async () => {
    const pending = startSession();
    const job = await nextJob();
    const c = await claim(job);
    await c.inbox.next();
    c.ws!.send('{"type":"nonsense"}');
    expect(await c.inbox.next()).toMatchObject({ type: 'error', message: expect.stringContaining('control message') });
    c.send({ type: 'answer', sdp: ANSWER });
    await pending;
    c.send({ type: 'end', detail: 'handler closed' });
    await expect
      .poll(async () => (await (await SELF.fetch(`${EDGE}/v1/sessions/${job.sessionId}/status`)).json<{ reason?: string; detail?: string }>()))
      .toMatchObject({ reason: 'worker_ended', detail: 'handler closed' });
  });
});
