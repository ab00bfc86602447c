import { SELF } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import { drainQueue, nextJob, receiveJobs } from './support/sqs.ts';
import { Inbox } from './support/inbox.ts';
import { callSid, openMediaStream, postSigned, voiceForm } from './support/twilio.ts';
import { claim } from './support/worker-client.ts';

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
    expect(await receiveJobs(10, 0)).toEqual([]);
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
    const jobs = await receiveJobs(10, 0);
    expect(jobs.map((j) => j.job.sessionId)).toEqual([`c_${sid}`]);
    expect(jobs[0]!.job.kind).toBe('phone');
    const c = await claim(jobs[0]!.job);
    expect(c.status).toBe(101);
    const session = await c.inbox.next();
    expect(session).toMatchObject({ type: 'session', kind: 'phone', call: { callSid: sid, from: '+15557654321', to: '+15550001111', direction: 'inbound' } });
    const connect = await (await postSigned('/twilio/voice', voiceForm(sid))).text();
    expect(connect).toMatch(/<Connect action="http:\/\/127\.0\.0\.1:8787\/twilio\/voice" method="POST"><Stream url="ws:\/\/127\.0\.0\.1:8787\/twilio\/media">/);
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
    expect(res.status).toBe(204);
    expect(await c.inbox.next()).toEqual({ type: 'hangup', reason: 'phone_hangup' });
    const st = await (await SELF.fetch(`http://edge.test/v1/sessions/c_${sid}/status`)).json<{ state: string; reason: string }>();
    expect(st).toMatchObject({ state: 'ended', reason: 'phone_hangup' });
    expect((await postSigned('/twilio/status', voiceForm(sid, { CallStatus: 'completed' }), { token: 'x' })).status).toBe(403);
  });
});

describe('GET /twilio/media', () => {
  it('refuses an upgrade with a bad signature (403)', async () => {
    expect((await openMediaStream({ token: 'wrong' })).status).toBe(403);
    expect((await SELF.fetch('http://edge.test/twilio/media', { headers: { Upgrade: 'websocket' } })).status).toBe(403);
  });

  it('pipes Twilio frames to the claiming worker and its frames back to Twilio', async () => {
    const sid = callSid();
    await postSigned('/twilio/voice', voiceForm(sid));
    const job = await nextJob(`c_${sid}`);
    const worker = await claim(job);
    await worker.inbox.next();
    const twiml = await (await postSigned('/twilio/voice', voiceForm(sid))).text();
    const res = await openMediaStream();
    expect(res.status).toBe(101);
    const twilio = res.webSocket!;
    twilio.accept();
    const toTwilio = new Inbox<string>();
    twilio.addEventListener('message', (e) => toTwilio.push(String(e.data)));
    const streamSid = 'MZ' + '1'.repeat(32);
    twilio.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
    twilio.send(JSON.stringify({
      event: 'start', sequenceNumber: '1', streamSid,
      start: { accountSid: 'AC00000000000000000000000000000000', streamSid, callSid: sid, tracks: ['inbound'],
        customParameters: { sessionId: param(twiml, 'sessionId'), token: param(twiml, 'token') },
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } },
    }));
    twilio.send(JSON.stringify({ event: 'media', sequenceNumber: '2', streamSid, media: { track: 'inbound', chunk: '1', timestamp: '5', payload: '/////w==' } }));
    expect(await worker.inbox.next()).toMatchObject({ type: 'twilio', message: { event: 'connected' } });
    expect(await worker.inbox.next()).toMatchObject({ type: 'twilio', message: { event: 'start', streamSid } });
    expect(await worker.inbox.next()).toMatchObject({ type: 'twilio', message: { event: 'media', media: { payload: '/////w==' } } });
    worker.send({ type: 'twilio', messages: [{ event: 'media', streamSid, media: { payload: 'f39/fw==' } }, { event: 'mark', streamSid, mark: { name: 'reply-1' } }] });
    worker.send({ type: 'twilio', messages: [{ event: 'clear', streamSid }] });
    expect(JSON.parse(await toTwilio.next())).toEqual({ event: 'media', streamSid, media: { payload: 'f39/fw==' } });
    expect(JSON.parse(await toTwilio.next())).toEqual({ event: 'mark', streamSid, mark: { name: 'reply-1' } });
    expect(JSON.parse(await toTwilio.next())).toEqual({ event: 'clear', streamSid });
    twilio.send(JSON.stringify({ event: 'stop', sequenceNumber: '3', streamSid, stop: { accountSid: 'AC00000000000000000000000000000000', callSid: sid } }));
    expect(await worker.inbox.next()).toMatchObject({ type: 'twilio', message: { event: 'stop' } });
    await expect
      .poll(async () => (await (await SELF.fetch(`http://edge.test/v1/sessions/c_${sid}/status`)).json<{ reason?: string }>()).reason)
      .toBe('phone_hangup');
  });

  it('closes a stream whose start carries a forged token', async () => {
    const res = await openMediaStream();
    const twilio = res.webSocket!;
    twilio.accept();
    const closed = new Promise<number>((r) => twilio.addEventListener('close', (e) => r(e.code)));
    const streamSid = 'MZ' + '2'.repeat(32);
    twilio.send(JSON.stringify({
      event: 'start', sequenceNumber: '1', streamSid,
      start: { accountSid: 'AC1', streamSid, callSid: 'CA1', tracks: ['inbound'],
        customParameters: { sessionId: `c_CA${'3'.repeat(32)}`, token: '9999999999999.AAAAAAAAAAAAAAAAAAAAAAAA' },
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } },
    }));
    expect(await closed).toBe(1008);
  });
});

describe('a phone call whose worker is lost', () => {
  /** A connected call: worker A claimed, Twilio's stream started. */
  async function connectedCall() {
    const sid = callSid();
    await postSigned('/twilio/voice', voiceForm(sid));
    const job = await nextJob(`c_${sid}`);
    const a = await claim(job, 'worker-a');
    const session = await a.inbox.next();
    if (session.type !== 'session') throw new Error('expected the session');
    const twiml = await (await postSigned('/twilio/voice', voiceForm(sid))).text();
    const twilio = (await openMediaStream()).webSocket!;
    twilio.accept();
    const toTwilio = new Inbox<string>();
    twilio.addEventListener('message', (e) => toTwilio.push(String(e.data)));
    let twilioClosed = false;
    twilio.addEventListener('close', () => (twilioClosed = true));
    const streamSid = 'MZ' + '4'.repeat(32);
    const start = {
      event: 'start', sequenceNumber: '1', streamSid,
      start: { accountSid: 'AC00000000000000000000000000000000', streamSid, callSid: sid, tracks: ['inbound'],
        customParameters: { sessionId: param(twiml, 'sessionId'), token: param(twiml, 'token') },
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } },
    };
    twilio.send(JSON.stringify(start));
    expect(await a.inbox.next()).toMatchObject({ type: 'twilio', message: { event: 'start', streamSid } });
    a.send({ type: 'state', state: 'live' });
    const status = async () => (await SELF.fetch(`http://edge.test/v1/sessions/c_${sid}/status`)).json<{ state: string; reason?: string; workerId?: string }>();
    return { sid, job, a, session, twilio, toTwilio, streamSid, status, twilioClosed: () => twilioClosed };
  }

  it('keeps Twilio\'s stream open, re-queues the call, and hands it to the next worker with the start frame', async () => {
    const call = await connectedCall();
    call.a.ws!.close(1011, 'crash');
    const requeued = await nextJob(call.job.sessionId);
    expect(requeued.controlToken).not.toBe(call.job.controlToken);
    const b = await claim(requeued, 'worker-b');
    expect(b.status).toBe(101);
    expect(await b.inbox.next()).toMatchObject({ type: 'session', kind: 'phone', takeover: true, iceServers: [] });
    expect(await b.inbox.next()).toMatchObject({ type: 'twilio', message: { event: 'start', streamSid: call.streamSid } });
    // The call carries on through worker B both ways, on the same Twilio WebSocket.
    call.twilio.send(JSON.stringify({ event: 'media', sequenceNumber: '2', streamSid: call.streamSid, media: { track: 'inbound', chunk: '1', timestamp: '20', payload: '/////w==' } }));
    expect(await b.inbox.next()).toMatchObject({ type: 'twilio', message: { event: 'media' } });
    b.send({ type: 'twilio', messages: [{ event: 'clear', streamSid: call.streamSid }] });
    expect(JSON.parse(await call.toTwilio.next())).toEqual({ event: 'clear', streamSid: call.streamSid });
    expect(call.twilioClosed()).toBe(false);
    const st = await call.status();
    expect(st).toMatchObject({ state: 'live', workerId: 'worker-b' });
    // The lost worker cannot come back once the call was taken over.
    expect((await claim({ sessionId: call.job.sessionId, controlToken: call.session.resumeToken }, 'worker-a')).status).toBe(409);
    // Stays live past the grace period.
    await new Promise((r) => setTimeout(r, 5300));
    expect((await call.status()).state).toBe('live');
  });

  it('lets the same worker dial back in after a transient drop; the re-queued job then gets 409', async () => {
    const call = await connectedCall();
    call.a.ws!.close(1011, 'blip');
    const requeued = await nextJob(call.job.sessionId);
    const back = await claim({ sessionId: call.job.sessionId, controlToken: call.session.resumeToken }, 'worker-a');
    expect(back.status).toBe(101);
    expect((await claim(requeued, 'worker-b')).status).toBe(409);
    expect((await call.status()).workerId).toBe('worker-a');
  });

  it('sends the re-queued job again every second until a worker claims it (a dead worker\'s open long poll may swallow a copy)', async () => {
    const call = await connectedCall();
    call.a.ws!.close(1011, 'crash');
    const first = await nextJob(call.job.sessionId);
    const t0 = Date.now();
    const second = await nextJob(call.job.sessionId, 3000);
    expect(Date.now() - t0).toBeGreaterThan(500);
    const b = await claim(second, 'worker-b');
    expect(b.status).toBe(101);
    // Claimed: no more copies.
    await expect(nextJob(call.job.sessionId, 2000)).rejects.toThrow(/no job/);
    expect((await claim(first, 'worker-c')).status).toBe(409);
  });

  it('ends the call as worker_lost when nobody takes it over, and closes Twilio\'s stream', async () => {
    const call = await connectedCall();
    call.a.ws!.close(1011, 'crash');
    await nextJob(call.job.sessionId);
    await expect.poll(async () => (await call.status()).reason, { timeout: 8000, interval: 200 }).toBe('worker_lost');
    await expect.poll(() => call.twilioClosed()).toBe(true);
  });

  it('stops passing a call on after three takeovers', async () => {
    const call = await connectedCall();
    let ws = call.a.ws!;
    for (let i = 0; i < 3; i++) {
      ws.close(1011, 'crash');
      const next = await claim(await nextJob(call.job.sessionId), `worker-${i}`);
      expect(next.status).toBe(101);
      ws = next.ws!;
    }
    ws.close(1011, 'crash');
    await expect.poll(async () => (await call.status()).reason).toBe('worker_lost');
  });
});
