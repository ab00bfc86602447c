import { SELF } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import { expectSilence, nextText, sessionStatus, socketOf } from './support/media.ts';
import { drainQueue, nextJob, takeJobs } from './support/sqs.ts';
import {
  callSid,
  openMediaStream,
  postSigned,
  streamSid,
  twilioConnected,
  twilioMedia,
  twilioStart,
  twilioStream,
  voiceForm,
} from './support/twilio.ts';
import { claim, dialMedia, handover } from './support/worker-client.ts';

beforeEach(drainQueue);

const param = (xml: string, name: string) => new RegExp(`<Parameter name="${name}" value="([^"]+)"`).exec(xml)?.[1];

describe('POST /twilio/voice', () => {
  it('refuses unsigned, wrongly signed and tampered webhooks with 403 text', async () => {
    const sid = callSid();
    const unsigned = await SELF.fetch('http://edge.test/twilio/voice', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(voiceForm(sid)).toString(),
    });
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get('Content-Type')).toMatch(/^text\/plain/);
    expect((await postSigned('/twilio/voice', voiceForm(sid), { token: 'wrong' })).status).toBe(403);
    expect((await postSigned('/twilio/voice', voiceForm(sid), { tamper: true })).status).toBe(403);
    expect(await takeJobs(10, 0)).toEqual([]);
  });

  it('holds with a redirect until a worker claims, then connects the stream; retries are idempotent', async () => {
    const sid = callSid();
    const first = await postSigned('/twilio/voice', voiceForm(sid));
    expect(first.status).toBe(200);
    expect(first.headers.get('Content-Type')).toBe('text/xml');
    const hold = await first.text();
    expect(hold).toContain('<Say>');
    expect(hold).toContain('<Redirect method="POST">http://127.0.0.1:8787/twilio/voice</Redirect>');
    // Twilio retries the same webhook: still one job for the call.
    expect((await postSigned('/twilio/voice', voiceForm(sid))).status).toBe(200);
    const jobs = await takeJobs(10, 0);
    expect(jobs.map((j) => j.job.sessionId)).toEqual([`c_${sid}`]);
    expect(jobs[0]!.job.kind).toBe('phone');
    const c = await claim(jobs[0]!.job);
    expect(c.status).toBe(101);
    const session = await c.inbox.next();
    expect(session).toMatchObject({ type: 'session', kind: 'phone', call: { callSid: sid, from: '+15557654321', to: '+15550001111', direction: 'inbound' } });
    const connect = await (await postSigned('/twilio/voice', voiceForm(sid))).text();
    // The stream URL names the session (Twilio signs it exactly on the upgrade); the token rides as a parameter.
    expect(connect).toContain(`<Connect action="http://127.0.0.1:8787/twilio/voice" method="POST"><Stream url="ws://127.0.0.1:8787/twilio/media/c_${sid}">`);
    expect(param(connect, 'sessionId')).toBe(`c_${sid}`);
    expect(param(connect, 'token')).toMatch(/^[\w-]{22}\.\d+\.[\w-]+$/);
  });

  it('says goodbye once the wait limit passes with no worker', async () => {
    const sid = callSid();
    await postSigned('/twilio/voice', voiceForm(sid));
    await new Promise((r) => setTimeout(r, 7100));
    const xml = await (await postSigned('/twilio/voice', voiceForm(sid))).text();
    expect(xml).toContain('<Hangup/>');
    const st = await (await SELF.fetch(`http://edge.test/v1/sessions/c_${sid}/status`)).json<{ state: string; reason: string }>();
    expect(st).toMatchObject({ state: 'ended', reason: 'claim_timeout' });
  });

  it('answers bad bodies with TwiML errors: 415 wrong type, 400 missing CallSid', async () => {
    const wrongType = await SELF.fetch('http://edge.test/twilio/voice', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: '{}' });
    expect(wrongType.status).toBe(415);
    expect(await wrongType.text()).toContain('<Response>');
    const noSid = await postSigned('/twilio/voice', { From: '+1555', AccountSid: 'AC1' });
    expect(noSid.status).toBe(400);
    expect(await noSid.text()).toContain('<Hangup/>');
  });
});

describe('POST /twilio/status', () => {
  it('ends the session on a completed call', async () => {
    const sid = callSid();
    await postSigned('/twilio/voice', voiceForm(sid));
    const job = await nextJob(`c_${sid}`);
    const c = await claim(job);
    await c.inbox.next();
    const res = await postSigned('/twilio/status', voiceForm(sid, { CallStatus: 'completed', CallDuration: '12' }));
    // Twilio's contract for a status callback: 204, no body.
    expect(res.status).toBe(204);
    expect(await c.inbox.next()).toEqual({ type: 'hangup', reason: 'phone_hangup' });
    const st = await (await SELF.fetch(`http://edge.test/v1/sessions/c_${sid}/status`)).json<{ state: string; reason: string }>();
    expect(st).toMatchObject({ state: 'ended', reason: 'phone_hangup' });
    expect((await postSigned('/twilio/status', voiceForm(sid, { CallStatus: 'completed' }), { token: 'x' })).status).toBe(403);
  });
});

describe('GET /twilio/media/<sessionId>', () => {
  /** A call waiting in the queue (no worker yet): its session exists and runs. */
  async function queuedCall() {
    const sid = callSid();
    await postSigned('/twilio/voice', voiceForm(sid));
    return { sid, id: `c_${sid}` };
  }

  it('refuses an upgrade unless Twilio signed this exact stream URL (403 text)', async () => {
    const { id } = await queuedCall();
    const other = await queuedCall();
    const wrongKey = await openMediaStream(id, { token: 'wrong' });
    expect(wrongKey.status).toBe(403);
    expect(await wrongKey.text()).toBe('Forbidden: invalid Twilio signature');
    expect((await SELF.fetch(`http://edge.test/twilio/media/${id}`, { headers: { Upgrade: 'websocket' } })).status).toBe(403);
    // The old URL without the session, and another session's URL, are not this one.
    expect((await openMediaStream(id, { signedUrl: 'ws://127.0.0.1:8787/twilio/media' })).status).toBe(403);
    expect((await openMediaStream(id, { signedUrl: `ws://127.0.0.1:8787/twilio/media/${other.id}` })).status).toBe(403);
    const ok = await socketOf(await openMediaStream(id));
    expect(ok.status).toBe(101);
  });

  it('answers 426 without an upgrade, 404 for a malformed or unknown session, 409 while a stream is attached, 410 once ended', async () => {
    const { sid, id } = await queuedCall();
    expect((await SELF.fetch(`http://edge.test/twilio/media/${id}`)).status).toBe(426);
    expect((await openMediaStream('not-a-session')).status).toBe(404);
    expect((await openMediaStream(`c_${callSid()}`)).status).toBe(404);
    const first = await twilioStream(id);
    expect((await openMediaStream(id)).status).toBe(409);
    expect((await postSigned('/twilio/status', voiceForm(sid, { CallStatus: 'completed' }))).status).toBe(204);
    expect((await first.closed).code).toBe(1000);
    expect((await openMediaStream(id)).status).toBe(410);
  });

  it("relays Twilio's frames to the claiming worker's media socket and the worker's frames back", async () => {
    const sid = callSid();
    const id = `c_${sid}`;
    await postSigned('/twilio/voice', voiceForm(sid));
    const worker = await claim(await nextJob(id));
    const session = await handover(worker);
    expect(session).toMatchObject({ kind: 'phone', iceServers: [] });
    const twiml = await (await postSigned('/twilio/voice', voiceForm(sid))).text();
    const twilio = await twilioStream(id);
    const media = await dialMedia(id, session.resumeToken);
    expect(media.status).toBe(101);
    const stream = streamSid('1');
    const start = twilioStart({ sid, stream, twiml });
    const frame = twilioMedia(stream, 2);
    twilio.send(twilioConnected);
    twilio.send(start);
    twilio.send(frame);
    // `connected` stays at the edge; start and media arrive as Twilio sent them.
    expect(await nextText(media)).toBe(start);
    expect(await nextText(media)).toBe(frame);
    const out = [
      JSON.stringify({ event: 'media', streamSid: stream, media: { payload: 'f39/fw==' } }),
      JSON.stringify({ event: 'mark', streamSid: stream, mark: { name: 'reply-1' } }),
    ];
    media.send(out.join('\n'));
    expect([await nextText(twilio), await nextText(twilio)]).toEqual(out);
    // Nothing of the stream travels over the control socket any more.
    await expect(worker.inbox.next(300)).rejects.toThrow(/no message/);
    // The status callback ends the call: the worker hears hangup, Twilio's stream and the media socket close.
    expect((await postSigned('/twilio/status', voiceForm(sid, { CallStatus: 'completed' }))).status).toBe(204);
    expect(await worker.inbox.next()).toEqual({ type: 'hangup', reason: 'phone_hangup' });
    expect((await twilio.closed).code).toBe(1000);
    expect((await media.closed).code).toBe(1000);
    expect(await sessionStatus(id)).toMatchObject({ state: 'ended', reason: 'phone_hangup' });
  });
});

describe('a phone call whose worker is lost', () => {
  /** A connected call: worker A claimed, its media socket open, Twilio's stream started. */
  async function connectedCall() {
    const sid = callSid();
    const id = `c_${sid}`;
    await postSigned('/twilio/voice', voiceForm(sid));
    const job = await nextJob(id);
    const a = await claim(job, 'worker-a');
    const session = await handover(a);
    const twiml = await (await postSigned('/twilio/voice', voiceForm(sid))).text();
    const aMedia = await dialMedia(id, session.resumeToken, 'worker-a');
    expect(aMedia.status).toBe(101);
    const twilio = await twilioStream(id);
    const stream = streamSid('4');
    const start = twilioStart({ sid, stream, twiml });
    twilio.send(start);
    expect(await nextText(aMedia)).toBe(start);
    a.send({ type: 'state', state: 'live' });
    await expect.poll(async () => (await sessionStatus(id)).state).toBe('live');
    return { sid, id, job, a, aMedia, session, twilio, stream, start };
  }

  it("keeps Twilio's stream open, re-queues the call, and replays the start to the next worker's media socket", async () => {
    const call = await connectedCall();
    call.a.ws!.close(1011, 'crash');
    const requeued = await nextJob(call.id);
    expect(requeued.controlToken).not.toBe(call.job.controlToken);
    const b = await claim(requeued, 'worker-b');
    expect(b.status).toBe(101);
    const bSession = await handover(b);
    expect(bSession).toMatchObject({ kind: 'phone', takeover: true, iceServers: [] });
    // Worker A's media socket cannot be re-dialled by A: the session is B's now.
    expect((await dialMedia(call.id, call.session.resumeToken, 'worker-a')).status).toBe(409);
    const bMedia = await dialMedia(call.id, bSession.resumeToken, 'worker-b');
    expect(bMedia.status).toBe(101);
    expect(await nextText(bMedia)).toBe(call.start);
    // The lost worker's media socket was closed when the other worker took the call over.
    expect(await call.aMedia.closed).toEqual({ code: 1000, reason: 'taken over' });
    // The call carries on through worker B both ways, on the same Twilio WebSocket.
    const frame = twilioMedia(call.stream, 2);
    call.twilio.send(frame);
    expect(await nextText(bMedia)).toBe(frame);
    const clear = JSON.stringify({ event: 'clear', streamSid: call.stream });
    bMedia.send(clear);
    expect(await nextText(call.twilio)).toBe(clear);
    expect(call.twilio.isClosed()).toBe(false);
    expect(await sessionStatus(call.id)).toMatchObject({ state: 'live', workerId: 'worker-b' });
    // The lost worker cannot come back once the call was taken over.
    expect((await claim({ sessionId: call.id, controlToken: call.session.resumeToken }, 'worker-a')).status).toBe(409);
    // Stays live past the grace period.
    await new Promise((r) => setTimeout(r, 5300));
    expect((await sessionStatus(call.id)).state).toBe('live');
  });

  it('lets the same worker dial back in after a transient drop; its media socket stays; the re-queued job then gets 409', async () => {
    const call = await connectedCall();
    call.a.ws!.close(1011, 'blip');
    const requeued = await nextJob(call.id);
    const back = await claim({ sessionId: call.id, controlToken: call.session.resumeToken }, 'worker-a');
    expect(back.status).toBe(101);
    expect((await claim(requeued, 'worker-b')).status).toBe(409);
    expect((await sessionStatus(call.id)).workerId).toBe('worker-a');
    // The media socket never depended on the control socket: frames still flow over it.
    const frame = twilioMedia(call.stream, 2);
    call.twilio.send(frame);
    expect(await nextText(call.aMedia)).toBe(frame);
  });

  it("sends the re-queued job again every second until a worker claims it (a dead worker's open long poll may swallow a copy)", async () => {
    const call = await connectedCall();
    call.a.ws!.close(1011, 'crash');
    const first = await nextJob(call.id);
    const t0 = Date.now();
    const second = await nextJob(call.id, 3000);
    expect(Date.now() - t0).toBeGreaterThan(500);
    const b = await claim(second, 'worker-b');
    expect(b.status).toBe(101);
    // Claimed: no more copies.
    await expect(nextJob(call.id, 2000)).rejects.toThrow(/no job/);
    expect((await claim(first, 'worker-c')).status).toBe(409);
  });

  it("ends the call as worker_lost when nobody takes it over, and closes Twilio's stream and the media socket", async () => {
    const call = await connectedCall();
    call.a.ws!.close(1011, 'crash');
    await nextJob(call.id);
    await expect.poll(async () => (await sessionStatus(call.id)).reason, { timeout: 8000, interval: 200 }).toBe('worker_lost');
    expect((await call.twilio.closed).code).toBe(1000);
    expect((await call.aMedia.closed).code).toBe(1000);
  });

  it('stops passing a call on after three takeovers', async () => {
    const call = await connectedCall();
    let ws = call.a.ws!;
    for (let i = 0; i < 3; i++) {
      ws.close(1011, 'crash');
      const next = await claim(await nextJob(call.id), `worker-${i}`);
      expect(next.status).toBe(101);
      ws = next.ws!;
    }
    ws.close(1011, 'crash');
    await expect.poll(async () => (await sessionStatus(call.id)).reason).toBe('worker_lost');
  });
});

describe('frames of a stream with no worker media socket', () => {
  it('drops what arrives before the worker dials; the worker then gets the stored start only', async () => {
    const sid = callSid();
    const id = `c_${sid}`;
    await postSigned('/twilio/voice', voiceForm(sid));
    const worker = await claim(await nextJob(id));
    const session = await handover(worker);
    const twiml = await (await postSigned('/twilio/voice', voiceForm(sid))).text();
    const twilio = await twilioStream(id);
    const start = twilioStart({ sid, stream: streamSid('5'), twiml });
    twilio.send(start);
    twilio.send(twilioMedia(streamSid('5'), 2));
    await expect.poll(async () => (await sessionStatus(id)).state).toBe('claimed');
    await new Promise((r) => setTimeout(r, 100));
    const media = await dialMedia(id, session.resumeToken);
    expect(await nextText(media)).toBe(start);
    await expectSilence(media);
  });
});
