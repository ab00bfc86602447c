import { SELF, env, runInDurableObject } from 'cloudflare:test';
import { encodeRelayBatch, PAYLOAD_SLOT } from '@switchboard/protocol';
import { beforeEach, describe, expect, it } from 'vitest';
import { computeTwilioSignature, bodySha256Hex } from '../src/telephony/twilio/signature.ts';
import { ANSWER, chromeOffer } from '../../test/fixtures/sdp.ts';
import { expectSilence, nextBinary, nextText, sessionStatus, type Socket } from './support/media.ts';
import { drainQueue, nextJob } from './support/sqs.ts';
import {
  AUTH_TOKEN,
  BASE,
  callSid,
  postSigned,
  streamSid,
  twilioConnected,
  twilioMedia,
  twilioStart,
  twilioStream,
  twimlParam,
  voiceForm,
} from './support/twilio.ts';
import { claim, dialMedia, handover, type Claim } from './support/worker-client.ts';
import { START_TIMEOUT_MS, type MediaRelay } from '../src/session/media-relay.ts';

/** The session object's peer sockets whose start deadline (a timer) is still pending. */
const pendingStartDeadlines = (id: string) =>
  runInDurableObject(env.CALL_SESSION.get(env.CALL_SESSION.idFromName(id)), (instance) => (instance as unknown as { relay: MediaRelay }).relay.pendingStartDeadlines);

/**
 * Twilio's media stream, relayed in one hop by the session's Durable Object (media-relay.ts):
 * single-use tokens bound to the call (checked on `start`), the frames allowed before `start`,
 * the worker's media socket (its credential, the stored `start` first, frames both ways verbatim,
 * a worker text message split into frames on '\n', a newer socket replacing an older one), and a
 * stream that closes without the call ending (`media.lost`, then a new stream through Twilio's
 * `<Connect action>` request).
 *
 * Not here any more, as the edge no longer does it: the media-format check (the worker reads the
 * relayed `start` and ends the call) and reading `stop` (relayed like any frame; the worker ends
 * the session).
 */

beforeEach(drainQueue);

/**
 * A call claimed by a worker: the voice webhook waits for the claim and answers with the TwiML
 * that connects the stream. `media` is the worker's media socket, dialled before any stream.
 */
async function claimedCall(workerId = 'w-test'): Promise<{ sid: string; id: string; worker: Claim; twiml: string; resumeToken: string; media: Socket }> {
  const sid = callSid();
  const id = `c_${sid}`;
  const pending = postSigned('/twilio/voice', voiceForm(sid));
  const worker = await claim(await nextJob(id), workerId);
  const session = await handover(worker);
  const twiml = await (await pending).text();
  expect(twiml).toContain(`<Stream url="ws://127.0.0.1:8787/twilio/media/${id}">`);
  const media = await dialMedia(id, session.resumeToken, workerId);
  expect(media.status).toBe(101);
  return { sid, id, worker, twiml, resumeToken: session.resumeToken, media };
}

/** A fresh connect TwiML for the call (Twilio's `<Connect action>` request, or a replayed webhook). */
const voiceAgain = async (sid: string) => (await postSigned('/twilio/voice', voiceForm(sid, { CallStatus: 'in-progress' }))).text();

describe('media stream tokens (checked on start)', () => {
  it('a token attaches one stream only: the same TwiML replayed cannot start a second one', async () => {
    const { sid, id, worker, twiml, media } = await claimedCall();
    const first = await twilioStream(id);
    const start = twilioStart({ sid, stream: streamSid('1'), twiml });
    first.send(start);
    expect(await nextText(media)).toBe(start);
    // The first stream drops without stop: the call goes on, the worker hears media.lost.
    first.ws!.close(1011, 'gone');
    expect(await worker.inbox.next()).toEqual({ type: 'media.lost', code: 1011, streamId: streamSid('1') });
    // The spent token cannot start another stream.
    const replay = await twilioStream(id);
    replay.send(twilioStart({ sid, stream: streamSid('2'), twiml }));
    expect(await replay.closed).toMatchObject({ code: 1008, reason: expect.stringMatching(/already used or superseded/) });
    await expectSilence(media);
    expect((await sessionStatus(id)).state).not.toBe('ended');
  });

  it('only the token minted last is usable (a later webhook supersedes an earlier unused token)', async () => {
    const { sid, id, worker, twiml: older, media } = await claimedCall();
    const newer = await voiceAgain(sid);
    expect(twimlParam(newer, 'token')).not.toBe(twimlParam(older, 'token'));
    const stale = await twilioStream(id);
    stale.send(twilioStart({ sid, stream: streamSid('3'), twiml: older }));
    expect(await stale.closed).toMatchObject({ code: 1008, reason: expect.stringMatching(/already used or superseded/) });
    const ok = await twilioStream(id);
    const start = twilioStart({ sid, stream: streamSid('4'), twiml: newer });
    ok.send(start);
    expect(await nextText(media)).toBe(start);
    // `stop` is relayed like any frame, not read: the call is not over until the worker says so.
    const stop = JSON.stringify({ event: 'stop', sequenceNumber: '2', streamSid: streamSid('4'), stop: { accountSid: 'AC00000000000000000000000000000000', callSid: sid } });
    ok.send(stop);
    expect(await nextText(media)).toBe(stop);
    expect((await sessionStatus(id)).state).toBe('claimed');
    // The worker, having read stop, ends the session: Twilio's stream and the media socket close.
    worker.send({ type: 'end', reason: 'phone_hangup' });
    expect((await ok.closed).code).toBe(1000);
    expect((await media.closed).code).toBe(1000);
    // A worker's `end` for a read `stop` is the caller's hang-up, as the status callback would say.
    expect(await sessionStatus(id)).toMatchObject({ state: 'ended', reason: 'phone_hangup' });
  });

  it("refuses a start whose callSid is not the session's call", async () => {
    const { sid, id, twiml, media } = await claimedCall();
    const s = await twilioStream(id);
    s.send(twilioStart({ sid: callSid(), stream: streamSid('5'), twiml }));
    expect(await s.closed).toMatchObject({ code: 1008, reason: expect.stringMatching(/callSid/) });
    await expectSilence(media);
    expect((await sessionStatus(id)).state).not.toBe('ended');
    // The token was not spent by the refused start: the right call's start still attaches.
    const ok = await twilioStream(id);
    const start = twilioStart({ sid, stream: streamSid('6'), twiml });
    ok.send(start);
    expect(await nextText(media)).toBe(start);
  });

  it("refuses a forged token, a malformed one, and another session's genuine token", async () => {
    const a = await claimedCall();
    const b = await claimedCall();
    const forged = await twilioStream(a.id);
    forged.send(twilioStart({ sid: a.sid, stream: streamSid('7'), twiml: a.twiml, token: `${'A'.repeat(22)}.9999999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA` }));
    expect(await forged.closed).toMatchObject({ code: 1008, reason: 'stream token bad_signature' });
    const malformed = await twilioStream(a.id);
    malformed.send(twilioStart({ sid: a.sid, stream: streamSid('8'), twiml: a.twiml, token: 'not-a-token' }));
    expect(await malformed.closed).toMatchObject({ code: 1008, reason: 'stream token malformed' });
    // B's token is HMAC-bound to B's session id: useless on A's stream.
    const crossed = await twilioStream(a.id);
    crossed.send(twilioStart({ sid: a.sid, stream: streamSid('9'), twiml: a.twiml, token: twimlParam(b.twiml, 'token') }));
    expect(await crossed.closed).toMatchObject({ code: 1008, reason: 'stream token bad_signature' });
    await expectSilence(a.media);
  });
});

describe('frames before start', () => {
  it('closes a stream that sends no start within 10 s; a started one stays open with no deadline pending', async () => {
    const c = await claimedCall();
    const s = await twilioStream(c.id);
    s.send(twilioConnected);
    const t0 = Date.now();
    const ok = await claimedCall();
    const started = await twilioStream(ok.id);
    started.send(twilioConnected);
    const start = twilioStart({ sid: ok.sid, stream: streamSid('0'), twiml: ok.twiml });
    started.send(start);
    expect(await nextText(ok.media)).toBe(start);
    // The start cleared its deadline: nothing is left pending in the object (it may hibernate).
    expect(await pendingStartDeadlines(ok.id)).toBe(0);
    expect(await pendingStartDeadlines(c.id)).toBe(1);
    expect(await s.closed).toMatchObject({ code: 1008, reason: `no start within ${START_TIMEOUT_MS} ms` });
    expect(Date.now() - t0).toBeGreaterThan(START_TIMEOUT_MS - 1000);
    expect(await pendingStartDeadlines(c.id)).toBe(0);
    // Past the deadline, the started stream is open and still relayed.
    const frame = twilioMedia(streamSid('0'), 2);
    started.send(frame);
    expect(await nextText(ok.media)).toBe(frame);
    expect(started.isClosed()).toBe(false);
  }, 20_000);

  it('clears the start deadline of a stream refused before its start', async () => {
    const c = await claimedCall();
    const s = await twilioStream(c.id);
    expect(await pendingStartDeadlines(c.id)).toBe(1);
    s.send(new Uint8Array([1]));
    expect(await s.closed).toMatchObject({ code: 1003 });
    expect(await pendingStartDeadlines(c.id)).toBe(0);
  });

  it('tolerates four frames before start (not relayed), closes a stream on the fifth', async () => {
    const ok = await claimedCall();
    const s = await twilioStream(ok.id);
    for (let i = 0; i < 4; i++) s.send(twilioConnected);
    const start = twilioStart({ sid: ok.sid, stream: streamSid('a'), twiml: ok.twiml });
    s.send(start);
    // `connected` is not relayed: the start is the first frame the worker reads.
    expect(await nextText(ok.media)).toBe(start);

    const chatty = await claimedCall();
    const t = await twilioStream(chatty.id);
    for (let i = 0; i < 5; i++) t.send(twilioConnected);
    expect(await t.closed).toMatchObject({ code: 1008, reason: 'too many frames before start' });
    await expectSilence(chatty.media);
  });

  it('closes a stream that sends binary, non-JSON or a non-start before start, or an oversized frame', async () => {
    const { sid, id, twiml } = await claimedCall();
    const binary = await twilioStream(id);
    binary.send(new Uint8Array([1, 2, 3]));
    expect(await binary.closed).toMatchObject({ code: 1003, reason: 'binary frame before start' });
    const garbage = await twilioStream(id);
    garbage.send('{not json');
    expect((await garbage.closed).code).toBe(1008);
    const early = await twilioStream(id);
    early.send(twilioMedia(streamSid('b'), 1));
    expect(await early.closed).toMatchObject({ code: 1008, reason: 'expected start after connected' });
    // A frame over 16 KiB is refused whatever it is.
    const big = await twilioStream(id);
    big.send(twilioStart({ sid, stream: streamSid('b'), twiml }).replace('"inbound"', `"${'x'.repeat(17_000)}"`));
    expect((await big.closed).code).toBe(1009);
    expect((await sessionStatus(id)).state).not.toBe('ended');
  });
});

describe('the media format check moved to the worker', () => {
  it('relays a start in another format unchanged and leaves ending the call to the worker', async () => {
    const { sid, id, worker, twiml, media } = await claimedCall();
    const s = await twilioStream(id);
    const start = twilioStart({ sid, stream: streamSid('c'), twiml, mediaFormat: { encoding: 'audio/x-l16', sampleRate: 16000, channels: 1 } });
    s.send(start);
    expect(await nextText(media)).toBe(start);
    expect(s.isClosed()).toBe(false);
    expect((await sessionStatus(id)).state).toBe('claimed');
    worker.send({ type: 'end', reason: 'error', detail: 'unsupported Twilio mediaFormat audio/x-l16 16000 Hz 1 ch' });
    expect((await s.closed).code).toBe(1000);
    expect(await sessionStatus(id)).toMatchObject({ state: 'ended', reason: 'worker_ended', detail: expect.stringMatching(/^error: unsupported Twilio mediaFormat/) });
  });
});

describe("the worker's media socket", () => {
  it('relays frames both ways verbatim, text and binary (the worker\'s binary as a relay batch)', async () => {
    const { sid, id, twiml, media } = await claimedCall();
    const s = await twilioStream(id);
    const start = twilioStart({ sid, stream: streamSid('d'), twiml });
    s.send(start);
    expect(await nextText(media)).toBe(start);
    // Unusual spacing and key order survive: the edge relays what it got, it does not re-serialise.
    const odd = ` {"streamSid":"${streamSid('d')}",  "event":"media","sequenceNumber":"2","media":{"payload":"/////w==","track":"inbound","chunk":"1","timestamp":"20"}}`;
    s.send(odd);
    expect(await nextText(media)).toBe(odd);
    s.send(new Uint8Array([0, 255, 7]));
    expect([...(await nextBinary(media))]).toEqual([0, 255, 7]);
    const reply = JSON.stringify({ event: 'media', streamSid: streamSid('d'), media: { payload: 'f39/fw==' } });
    media.send(reply);
    expect(await nextText(s)).toBe(reply);
    // The worker's binary message for a provider is a relay batch: the payload arrives as base64 in the frame.
    const template = JSON.stringify({ event: 'media', streamSid: streamSid('d'), media: { payload: PAYLOAD_SLOT } });
    media.send(encodeRelayBatch([{ template, payload: new Uint8Array([9, 8, 7, 6]) }]));
    expect(await nextText(s)).toBe(JSON.stringify({ event: 'media', streamSid: streamSid('d'), media: { payload: 'CQgHBg==' } }));
    // The 16 KiB limit holds for binary frames too: the stream is closed, the frame not relayed.
    s.send(new Uint8Array(17_000));
    expect((await s.closed).code).toBe(1009);
    await expectSilence(media);
  });

  it("splits a worker text message into frames on '\\n', in order", async () => {
    const { sid, id, twiml, media } = await claimedCall();
    const s = await twilioStream(id);
    s.send(twilioStart({ sid, stream: streamSid('e'), twiml }));
    await nextText(media);
    const frames = [
      JSON.stringify({ event: 'media', streamSid: streamSid('e'), media: { payload: 'f39/fw==' } }),
      JSON.stringify({ event: 'mark', streamSid: streamSid('e'), mark: { name: 'reply-1' } }),
      JSON.stringify({ event: 'clear', streamSid: streamSid('e') }),
    ];
    media.send(frames.join('\n'));
    expect([await nextText(s), await nextText(s), await nextText(s)]).toEqual(frames);
    await expectSilence(s);
  });

  it('sends the stored start first to a socket dialled after the stream started; a newer socket replaces the older', async () => {
    const { sid, id, twiml, resumeToken, media: first } = await claimedCall();
    const s = await twilioStream(id);
    const start = twilioStart({ sid, stream: streamSid('f'), twiml });
    s.send(start);
    expect(await nextText(first)).toBe(start);
    s.send(twilioMedia(streamSid('f'), 2));
    await nextText(first);
    const second = await dialMedia(id, resumeToken);
    expect(second.status).toBe(101);
    expect(await nextText(second)).toBe(start);
    expect(await first.closed).toEqual({ code: 1000, reason: 'replaced' });
    const frame = twilioMedia(streamSid('f'), 3);
    s.send(frame);
    expect(await nextText(second)).toBe(frame);
    second.send('{"event":"clear","streamSid":"' + streamSid('f') + '"}');
    expect(JSON.parse(await nextText(s))).toEqual({ event: 'clear', streamSid: streamSid('f') });
  });

  it('is refused without the resume token, to another worker, for a WebRTC or an ended session, and without an upgrade', async () => {
    const { id, worker, resumeToken, media } = await claimedCall('w-owner');
    media.ws!.close(1000, 'test');
    const other = await dialMedia(id, resumeToken, 'w-other');
    expect(other.status).toBe(409);
    expect(other.body).toContain('held by another worker');
    const noToken = await dialMedia(id, '', 'w-owner', { Authorization: '' });
    expect(noToken.status).toBe(401);
    // A resume token whose expiry was changed no longer carries a valid MAC.
    const [expiresAt, mac] = resumeToken.split('.');
    const tampered = await dialMedia(id, `${Number(expiresAt) + 1}.${mac}`, 'w-owner');
    expect(tampered.status).toBe(401);
    expect(tampered.body).toMatch(/resume token bad_signature/);
    const plain = await SELF.fetch(`http://edge.test/internal/sessions/${id}/media`, { headers: { Authorization: `Bearer ${resumeToken}`, 'X-Worker-Id': 'w-owner' } });
    expect(plain.status).toBe(426);
    worker.send({ type: 'end', reason: 'handler_closed' });
    await expect.poll(async () => (await sessionStatus(id)).state).toBe('ended');
    expect((await dialMedia(id, resumeToken, 'w-owner')).status).toBe(410);

    // A WebRTC session's worker, with its own valid resume token, has no media socket.
    const whip = SELF.fetch('http://edge.test/v1/sessions', { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: chromeOffer() });
    const job2 = await nextJob();
    const w = await claim(job2, 'w-webrtc');
    const session = await handover(w);
    w.send({ type: 'answer', sdp: ANSWER });
    expect((await whip).status).toBe(201);
    const refused = await dialMedia(job2.sessionId, session.resumeToken, 'w-webrtc');
    expect(refused.status).toBe(404);
    expect(refused.body).toContain('a WebRTC session has no media socket');
  });

  it("rejects the job's control token as a media credential", async () => {
    const sid = callSid();
    const id = `c_${sid}`;
    const pending = postSigned('/twilio/voice', voiceForm(sid));
    const job = await nextJob(id);
    const worker = await claim(job);
    await handover(worker);
    await pending;
    const refused = await dialMedia(id, job.controlToken);
    expect(refused.status).toBe(401);
  });
});

describe('a stream that closes without stop', () => {
  it('keeps the call: the worker hears media.lost, the action request gets a new stream whose start reaches the worker', async () => {
    const { sid, id, worker, twiml, media } = await claimedCall();
    expect(twiml).toContain(`<Connect action="${BASE}/twilio/voice" method="POST">`);
    const first = await twilioStream(id);
    first.send(twilioStart({ sid, stream: streamSid('1'), twiml }));
    await nextText(media);
    worker.send({ type: 'state', state: 'live' });
    await expect.poll(async () => (await sessionStatus(id)).state).toBe('live');
    first.ws!.close(1011, 'edge went away');
    expect(await worker.inbox.next()).toEqual({ type: 'media.lost', code: 1011, streamId: streamSid('1') });
    expect((await sessionStatus(id)).state).toBe('live');
    expect(media.isClosed()).toBe(false);
    // Twilio requests <Connect action>: a new stream with a fresh token.
    const again = await voiceAgain(sid);
    expect(twimlParam(again, 'token')).not.toBe(twimlParam(twiml, 'token'));
    const second = await twilioStream(id);
    const start = twilioStart({ sid, stream: streamSid('2'), twiml: again });
    second.send(start);
    expect(await nextText(media)).toBe(start);
    // Frames the worker wrote for the old stream before it read the new start are dropped; the new stream's pass.
    const stale = JSON.stringify({ event: 'mark', streamSid: streamSid('1'), mark: { name: 'old' } });
    const clear = JSON.stringify({ event: 'clear', streamSid: streamSid('2') });
    media.send(`${stale}\n${stale}`);
    media.send(stale);
    media.send(clear);
    expect(await nextText(second)).toBe(clear);
    // A completed status callback ends the call: the worker hears hangup, both sockets close.
    expect((await postSigned('/twilio/status', voiceForm(sid, { CallStatus: 'completed' }))).status).toBe(204);
    expect(await worker.inbox.next()).toEqual({ type: 'hangup', reason: 'phone_hangup' });
    expect((await second.closed).code).toBe(1000);
    expect((await media.closed).code).toBe(1000);
    // Twilio then asks the action URL once more: the call is over, so it hangs up without a word.
    expect(await voiceAgain(sid)).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>');
  });

  it('answers a voice request while a stream is attached without a token (a silent redirect)', async () => {
    const { sid, id, twiml, media } = await claimedCall();
    const s = await twilioStream(id);
    s.send(twilioStart({ sid, stream: streamSid('3'), twiml }));
    await nextText(media);
    const t0 = Date.now();
    const replay = await voiceAgain(sid);
    // It waited for the stream to close (Twilio's action request can beat the close), in vain.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    expect(replay).not.toContain('<Parameter');
    expect(replay).toContain(`<Pause length="1"/><Redirect method="POST">${BASE}/twilio/voice</Redirect>`);
    expect(replay).not.toContain('<Say>');
    expect(s.isClosed()).toBe(false);
    expect((await sessionStatus(id)).state).not.toBe('ended');
  });
});

describe("the session object's sockets dropped (its reset, as on a deploy)", () => {
  it('Twilio gets a new stream, the worker dials back in and its new media socket gets the new start', async () => {
    const { sid, id, worker, twiml, resumeToken, media } = await claimedCall();
    const first = await twilioStream(id);
    first.send(twilioStart({ sid, stream: streamSid('a'), twiml }));
    await nextText(media);
    worker.send({ type: 'state', state: 'live' });
    await expect.poll(async () => (await sessionStatus(id)).state).toBe('live');
    const stub = env.CALL_SESSION.get(env.CALL_SESSION.idFromName(id));
    await runInDurableObject(stub, (_instance, state) => {
      for (const ws of state.getWebSockets()) ws.close(1012, 'reset');
    });
    expect((await first.closed).code).toBe(1012);
    expect((await worker.closed).code).toBe(1012);
    expect((await media.closed).code).toBe(1012);
    expect((await sessionStatus(id)).state).toBe('live');
    const again = await voiceAgain(sid);
    expect(twimlParam(again, 'token')).toBeDefined();
    const second = await twilioStream(id);
    const start = twilioStart({ sid, stream: streamSid('b'), twiml: again });
    second.send(start);
    second.send(twilioMedia(streamSid('b'), 2));
    // The worker dials back in with its resume token, then its media socket: the new start first.
    const back = await claim({ sessionId: id, controlToken: resumeToken });
    expect(back.status).toBe(101);
    const backMedia = await dialMedia(id, resumeToken);
    expect(backMedia.status).toBe(101);
    expect(await nextText(backMedia)).toBe(start);
    const clear = JSON.stringify({ event: 'clear', streamSid: streamSid('b') });
    backMedia.send(clear);
    expect(await nextText(second)).toBe(clear);
    expect((await sessionStatus(id)).state).toBe('live');
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
