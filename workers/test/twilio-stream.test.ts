import { SELF, env, runInDurableObject } from 'cloudflare:test';
import type { ControlToWorker } from '@switchboard/protocol';
import { beforeEach, describe, expect, it } from 'vitest';
import { computeTwilioSignature, bodySha256Hex } from '../src/twilio/signature.ts';
import { drainQueue, nextJob } from './support/sqs.ts';
import { Inbox } from './support/inbox.ts';
import { AUTH_TOKEN, BASE, callSid, openMediaStream, postSigned, voiceForm } from './support/twilio.ts';
import { claim, type Claim } from './support/worker-client.ts';

/**
 * Twilio's media stream at the edge: single-use tokens bound to the call, the audio format, the
 * start deadline, and a stream that closes without `stop` (the call goes on through a new stream
 * that Twilio's `<Connect action>` request gets).
 */

beforeEach(drainQueue);

const ACCOUNT = 'AC00000000000000000000000000000000';
const MULAW = { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 };
const param = (xml: string, name: string) => new RegExp(`<Parameter name="${name}" value="([^"]+)"`).exec(xml)?.[1];
const streamSid = (digit: string) => 'MZ' + digit.repeat(32);

function startFrame(o: { sid: string; stream: string; twiml: string; mediaFormat?: object; token?: string }) {
  return JSON.stringify({
    event: 'start', sequenceNumber: '1', streamSid: o.stream,
    start: { accountSid: ACCOUNT, streamSid: o.stream, callSid: o.sid, tracks: ['inbound'],
      customParameters: { sessionId: param(o.twiml, 'sessionId'), token: o.token ?? param(o.twiml, 'token') },
      mediaFormat: o.mediaFormat ?? MULAW },
  });
}

/** Twilio's side of one stream: the socket, what the edge sends it, and how it closed. */
async function stream() {
  const res = await openMediaStream();
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  ws.accept();
  const inbox = new Inbox<string>();
  ws.addEventListener('message', (e) => inbox.push(String(e.data)));
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.addEventListener('close', (e) => r({ code: e.code, reason: e.reason })));
  return { ws, inbox, closed };
}

const status = async (sid: string) =>
  (await SELF.fetch(`http://edge.test/v1/sessions/c_${sid}/status`)).json<{ state: string; reason?: string; detail?: string }>();

/** A call claimed by a worker, with the TwiML that connects its stream. */
async function claimedCall(): Promise<{ sid: string; worker: Claim; twiml: string; resumeToken: string }> {
  const sid = callSid();
  await postSigned('/twilio/voice', voiceForm(sid));
  const worker = await claim(await nextJob(`c_${sid}`));
  const session = await worker.inbox.next();
  if (session.type !== 'session') throw new Error(`expected the session, got ${session.type}`);
  const twiml = await (await postSigned('/twilio/voice', voiceForm(sid, { CallStatus: 'in-progress' }))).text();
  return { sid, worker, twiml, resumeToken: session.resumeToken };
}

/** The worker's next message that is not a relayed media frame. */
const nextControl = (w: Claim): Promise<ControlToWorker> =>
  w.inbox.until((m) => !(m.type === 'twilio' && m.message.event === 'media'));

describe('media stream tokens', () => {
  it('a token attaches one stream only: the same TwiML replayed cannot open a second one', async () => {
    const { sid, worker, twiml } = await claimedCall();
    const first = await stream();
    first.ws.send(startFrame({ sid, stream: streamSid('1'), twiml }));
    expect(await worker.inbox.next()).toMatchObject({ type: 'twilio', message: { event: 'start' } });
    // The first stream drops without stop; the old token is spent, so a replay of it is refused.
    first.ws.close(1011, 'gone');
    expect(await nextControl(worker)).toMatchObject({ type: 'twilio.lost' });
    const replay = await stream();
    replay.ws.send(startFrame({ sid, stream: streamSid('2'), twiml }));
    expect(await replay.closed).toMatchObject({ code: 1008, reason: expect.stringMatching(/already used or superseded/) });
    expect((await status(sid)).state).not.toBe('ended');
  });

  it('only the token minted last is usable (a later webhook supersedes an earlier unused token)', async () => {
    const { sid, twiml: older } = await claimedCall();
    const newer = await (await postSigned('/twilio/voice', voiceForm(sid, { CallStatus: 'in-progress' }))).text();
    expect(param(newer, 'token')).not.toBe(param(older, 'token'));
    const s = await stream();
    s.ws.send(startFrame({ sid, stream: streamSid('3'), twiml: older }));
    expect((await s.closed).code).toBe(1008);
    const ok = await stream();
    ok.ws.send(startFrame({ sid, stream: streamSid('4'), twiml: newer }));
    await expect.poll(async () => (await status(sid)).state).toBe('claimed');
    ok.ws.send(JSON.stringify({ event: 'stop', sequenceNumber: '2', streamSid: streamSid('4'), stop: { accountSid: ACCOUNT, callSid: sid } }));
    await expect.poll(async () => (await status(sid)).reason).toBe('phone_hangup');
  });

  it("refuses a start whose callSid is not the session's call", async () => {
    const { sid, twiml } = await claimedCall();
    const s = await stream();
    s.ws.send(startFrame({ sid: callSid(), stream: streamSid('5'), twiml }));
    expect(await s.closed).toMatchObject({ code: 1008, reason: expect.stringMatching(/callSid/) });
    expect((await status(sid)).state).not.toBe('ended');
  });

  it('refuses a media format other than 8 kHz mono mu-law and ends the session saying why', async () => {
    const { sid, worker, twiml } = await claimedCall();
    const s = await stream();
    s.ws.send(startFrame({ sid, stream: streamSid('6'), twiml, mediaFormat: { encoding: 'audio/x-l16', sampleRate: 16000, channels: 1 } }));
    expect((await s.closed).code).toBe(1008);
    expect(await worker.inbox.next()).toEqual({ type: 'hangup', reason: 'error' });
    const st = await status(sid);
    expect(st).toMatchObject({ state: 'ended', reason: 'error' });
    expect(st.detail).toMatch(/unsupported Twilio mediaFormat audio\/x-l16 16000 Hz/);
  });

  it('closes a stream that sends no start within 5 s', async () => {
    const s = await stream();
    s.ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
    const t0 = Date.now();
    expect(await s.closed).toMatchObject({ code: 1008, reason: expect.stringMatching(/no start/) });
    expect(Date.now() - t0).toBeGreaterThan(4000);
  }, 10_000);

  it('closes a stream that sends too much before start', async () => {
    const s = await stream();
    const junk = JSON.stringify({ event: 'connected', protocol: 'x'.repeat(4000), version: '1' });
    for (let i = 0; i < 5; i++) s.ws.send(junk);
    expect(await s.closed).toMatchObject({ code: 1008, reason: expect.stringMatching(/too much before start/) });
  });
});

describe('a stream that closes without stop', () => {
  it('keeps the call: the worker hears twilio.lost, the action request gets a new stream whose start reaches the worker', async () => {
    const { sid, worker, twiml } = await claimedCall();
    expect(twiml).toContain(`<Connect action="${BASE}/twilio/voice" method="POST">`);
    const first = await stream();
    first.ws.send(startFrame({ sid, stream: streamSid('7'), twiml }));
    expect(await worker.inbox.next()).toMatchObject({ type: 'twilio', message: { event: 'start', streamSid: streamSid('7') } });
    worker.send({ type: 'state', state: 'live' });
    first.ws.close(1011, 'edge went away');
    expect(await nextControl(worker)).toMatchObject({ type: 'twilio.lost' });
    expect((await status(sid)).state).toBe('live');
    // Twilio requests <Connect action>: a new stream with a fresh token.
    const again = await (await postSigned('/twilio/voice', voiceForm(sid, { CallStatus: 'in-progress' }))).text();
    expect(param(again, 'token')).not.toBe(param(twiml, 'token'));
    const second = await stream();
    second.ws.send(startFrame({ sid, stream: streamSid('8'), twiml: again }));
    expect(await worker.inbox.next()).toMatchObject({ type: 'twilio', message: { event: 'start', streamSid: streamSid('8') } });
    worker.send({ type: 'twilio', messages: [{ event: 'clear', streamSid: streamSid('8') }] });
    expect(JSON.parse(await second.inbox.next())).toEqual({ event: 'clear', streamSid: streamSid('8') });
    // A completed status callback still ends the call.
    expect((await postSigned('/twilio/status', voiceForm(sid, { CallStatus: 'completed' }))).status).toBe(204);
    expect(await nextControl(worker)).toEqual({ type: 'hangup', reason: 'phone_hangup' });
    expect((await second.closed).code).toBe(1000);
    // Twilio then asks the action URL once more: the call is over, so it hangs up without a word.
    const after = await (await postSigned('/twilio/voice', voiceForm(sid, { CallStatus: 'in-progress' }))).text();
    expect(after).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>');
  });

  it('answers a voice request while a stream is attached without a token (a silent redirect)', async () => {
    const { sid, worker, twiml } = await claimedCall();
    const s = await stream();
    s.ws.send(startFrame({ sid, stream: streamSid('9'), twiml }));
    expect(await worker.inbox.next()).toMatchObject({ type: 'twilio', message: { event: 'start' } });
    const t0 = Date.now();
    const replay = await (await postSigned('/twilio/voice', voiceForm(sid, { CallStatus: 'in-progress' }))).text();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    expect(replay).not.toContain('<Parameter');
    expect(replay).toContain(`<Pause length="1"/><Redirect method="POST">${BASE}/twilio/voice</Redirect>`);
    expect(replay).not.toContain('<Say>');
    expect((await status(sid)).state).not.toBe('ended');
  });
});

describe("the session object's sockets dropped (its reset, as on a deploy)", () => {
  it('Twilio gets a new stream, the worker dials back in and gets the new start', async () => {
    const { sid, worker, twiml, resumeToken } = await claimedCall();
    const first = await stream();
    first.ws.send(startFrame({ sid, stream: streamSid('a'), twiml }));
    expect(await worker.inbox.next()).toMatchObject({ type: 'twilio', message: { event: 'start' } });
    worker.send({ type: 'state', state: 'live' });
    await expect.poll(async () => (await status(sid)).state).toBe('live');
    const stub = env.CALL_SESSION.get(env.CALL_SESSION.idFromName(`c_${sid}`));
    await runInDurableObject(stub, (_instance, state) => {
      for (const ws of state.getWebSockets()) ws.close(1012, 'reset');
    });
    // Twilio's stream closes (not normally: the call is not over) and the worker's control socket drops.
    expect((await first.closed).code).toBe(1011);
    expect((await worker.closed).code).toBe(1012);
    expect((await status(sid)).state).toBe('live');
    const again = await (await postSigned('/twilio/voice', voiceForm(sid, { CallStatus: 'in-progress' }))).text();
    expect(param(again, 'token')).toBeDefined();
    const second = await stream();
    second.ws.send(startFrame({ sid, stream: streamSid('b'), twiml: again }));
    second.ws.send(JSON.stringify({ event: 'media', sequenceNumber: '2', streamSid: streamSid('b'), media: { track: 'inbound', chunk: '1', timestamp: '0', payload: '/////w==' } }));
    await new Promise((r) => setTimeout(r, 200));
    // The worker dials back in with its resume token and gets the new stream's start first.
    const back = await claim({ sessionId: `c_${sid}`, controlToken: resumeToken });
    expect(back.status).toBe(101);
    expect(await back.inbox.next()).toMatchObject({ type: 'twilio', message: { event: 'start', streamSid: streamSid('b') } });
    back.send({ type: 'twilio', messages: [{ event: 'clear', streamSid: streamSid('b') }] });
    expect(JSON.parse(await second.inbox.next())).toEqual({ event: 'clear', streamSid: streamSid('b') });
    expect((await status(sid)).state).toBe('live');
  });
});

describe('JSON webhooks signed with bodySHA256', () => {
  async function postJson(path: string, body: string, o: { hash?: string; token?: string } = {}) {
    const hash = o.hash ?? (await bodySha256Hex(body));
    const url = `${path}?bodySHA256=${hash}`;
    const signature = await computeTwilioSignature(o.token ?? AUTH_TOKEN, BASE + url, {});
    return SELF.fetch(`http://edge.test${url}`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Twilio-Signature': signature }, body });
  }

  it('accepts a signed JSON body whose hash matches, refuses a changed body, a wrong hash or key', async () => {
    const sid = callSid();
    const body = JSON.stringify(voiceForm(sid));
    const ok = await postJson('/twilio/voice', body);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('<Redirect');
    const changed = await postJson('/twilio/voice', body, { hash: await bodySha256Hex(body.replace('+1555', '+1666')) });
    expect(changed.status).toBe(403);
    expect((await postJson('/twilio/voice', body, { token: 'wrong' })).status).toBe(403);
    // Signed URL without bodySHA256: the body would be unsigned.
    const signature = await computeTwilioSignature(AUTH_TOKEN, `${BASE}/twilio/voice`, {});
    const bare = await SELF.fetch('http://edge.test/twilio/voice', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Twilio-Signature': signature }, body });
    expect(bare.status).toBe(403);
  });

  it('refuses a request announcing a shared key when none is configured', async () => {
    const sid = callSid();
    const form = voiceForm(sid);
    const signature = await computeTwilioSignature(AUTH_TOKEN, `${BASE}/twilio/voice`, form, 'HMAC-SHA256');
    const res = await SELF.fetch('http://edge.test/twilio/voice', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        'X-Twilio-Signature': signature,
        'X-Twilio-Webhooks-Signature-Settings': 'key=webhooks_sharedkey_x,algorithm=HMAC_SHA256',
      },
      body: new URLSearchParams(form).toString(),
    });
    expect(res.status).toBe(403);
  });
});
