import { afterAll, describe, expect, it } from 'vitest';
import { inject } from '../support/inject.ts';
import WebSocket from 'ws';
import twilio from 'twilio';
import { TestWorker } from '../support/worker-client.ts';
import { chromeOffer } from '../fixtures/sdp.ts';

const edge = inject('edgeUrl');
const worker = new TestWorker(edge, inject('sqsEndpoint'), inject('sqsQueueUrl'), 'w-e2e-1');
const rival = new TestWorker(edge, inject('sqsEndpoint'), inject('sqsQueueUrl'), 'w-e2e-2');
afterAll(() => {
  worker.close();
  rival.close();
});

const ANSWER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n';

describe('the edge under wrangler dev, with fauxqs and workers on the real SQS SDK and ws', () => {
  it('answers a WHIP offer through queue, claim and control WebSocket', async () => {
    const t0 = Date.now();
    const pending = fetch(`${edge}/v1/sessions`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: chromeOffer() });
    // Made by this POST (earlier files' sessions may have left jobs on the shared queue).
    const job = await worker.nextJob((j) => j.createdAt >= t0);
    const c = await worker.claim(job);
    expect(c.status).toBe(101);
    const session = await c.messages.next();
    expect(session).toMatchObject({ type: 'session', sessionId: job.sessionId, kind: 'webrtc', offer: chromeOffer() });
    c.send({ type: 'answer', sdp: ANSWER });
    const res = await pending;
    expect(res.status).toBe(201);
    expect(await res.text()).toBe(ANSWER);
    c.send({ type: 'state', state: 'live' });
    await expect.poll(async () => (await (await fetch(`${edge}/v1/sessions/${job.sessionId}/status`)).json()).state).toBe('live');
    expect((await fetch(`${edge}/v1/sessions/${job.sessionId}`, { method: 'DELETE' })).status).toBe(200);
    expect(await c.messages.next()).toEqual({ type: 'hangup', reason: 'client_hangup' });
  });

  it('lets exactly one of two workers claim a job delivered twice', async () => {
    const t0 = Date.now();
    const pending = fetch(`${edge}/v1/sessions`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: chromeOffer() });
    const job = await worker.nextJob((j) => j.createdAt >= t0);
    const [a, b] = await Promise.all([worker.claim(job), rival.claim(job)]);
    expect([a.status, b.status].sort()).toEqual([101, 409]);
    const winner = a.status === 101 ? a : b;
    await winner.messages.next();
    winner.send({ type: 'answer', sdp: ANSWER });
    expect((await pending).status).toBe(201);
    const st = await (await fetch(`${edge}/v1/sessions/${job.sessionId}/status`)).json();
    expect(st.workerId).toBe(a.status === 101 ? 'w-e2e-1' : 'w-e2e-2');
  });

  it('pipes a phone call: signed webhook, TwiML, signed media WebSocket, frames both ways', async () => {
    const token = inject('twilioAuthToken');
    const callSid = 'CA' + 'ab'.repeat(16);
    const form = { AccountSid: 'AC' + '0'.repeat(32), CallSid: callSid, From: '+15557654321', To: '+15550001111', Direction: 'inbound', CallStatus: 'ringing' };
    const voice = async () =>
      fetch(`${edge}/twilio/voice`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          // Signed by the twilio package itself, as Twilio would.
          'X-Twilio-Signature': twilio.getExpectedTwilioSignature(token, `${edge}/twilio/voice`, form),
        },
        body: new URLSearchParams(form).toString(),
      });
    const hold = voice();
    const job = await worker.nextJob(`c_${callSid}`);
    const c = await worker.claim(job);
    expect(c.status).toBe(101);
    const session = await c.messages.next();
    expect(session).toMatchObject({ type: 'session', kind: 'phone' });
    if (session.type !== 'session') throw new Error('expected the session');
    // The worker's media socket: Twilio's frames are relayed over it verbatim, from its `start` on.
    const media = await worker.media(session.sessionId, session.resumeToken);
    const first = await (await hold).text();
    const xml = first.includes('<Connect') ? first : await (await voice()).text();
    const streamUrl = `${edge.replace(/^http/, 'ws')}/twilio/media/${session.sessionId}`;
    expect(xml).toContain(`<Stream url="${streamUrl}">`);
    const sessionId = /name="sessionId" value="([^"]+)"/.exec(xml)![1]!;
    const streamToken = /name="token" value="([^"]+)"/.exec(xml)![1]!;

    const tw = new WebSocket(streamUrl, { headers: { 'X-Twilio-Signature': twilio.getExpectedTwilioSignature(token, streamUrl, {}) } });
    await new Promise((r, j) => tw.once('open', r).once('error', j));
    const got: string[] = [];
    tw.on('message', (d) => got.push(d.toString()));
    const streamSid = 'MZ' + 'cd'.repeat(16);
    tw.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
    tw.send(JSON.stringify({ event: 'start', sequenceNumber: '1', streamSid, start: { accountSid: form.AccountSid, streamSid, callSid, tracks: ['inbound'], customParameters: { sessionId, token: streamToken }, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } } }));
    const dtmf = JSON.stringify({ event: 'dtmf', sequenceNumber: '2', streamSid, dtmf: { track: 'inbound_track', digit: '5' } });
    tw.send(dtmf);
    // `connected` stays at the edge; `start` and everything after reach the worker as sent.
    await expect.poll(() => media.frames.length).toBe(2);
    expect(JSON.parse(media.frames[0]!)).toMatchObject({ event: 'start', streamSid });
    expect(media.frames[1]).toBe(dtmf);
    // The worker's frames, one per line of a message, reach Twilio one by one.
    const mediaOut = JSON.stringify({ event: 'media', streamSid, media: { payload: 'f39/' } });
    const mark = JSON.stringify({ event: 'mark', streamSid, mark: { name: 'm1' } });
    media.ws.send(`${mediaOut}\n${mark}`);
    await expect.poll(() => got.length).toBe(2);
    expect(got).toEqual([mediaOut, mark]);
    // The call ends when the worker reads Twilio's `stop` and says so.
    tw.send(JSON.stringify({ event: 'stop', sequenceNumber: '3', streamSid, stop: { accountSid: form.AccountSid, callSid } }));
    await expect.poll(() => media.frames.length).toBe(3);
    c.send({ type: 'end', reason: 'phone_hangup' });
    await expect.poll(async () => (await (await fetch(`${edge}/v1/sessions/${sessionId}/status`)).json()).reason).toBe('phone_hangup');
    tw.close();
    media.ws.close();
  });

  it('refuses a media WebSocket with a bad signature', async () => {
    const ws = new WebSocket(`${edge.replace(/^http/, 'ws')}/twilio/media/c_CA${'0'.repeat(32)}`, { headers: { 'X-Twilio-Signature': 'bm9wZQ==' } });
    const status = await new Promise<number>((r) => {
      ws.once('unexpected-response', (_q, res) => r(res.statusCode ?? 0));
      ws.once('open', () => r(101));
    });
    expect(status).toBe(403);
  });
});
