import { SELF } from 'cloudflare:test';
import { encodeRelayBatch, PAYLOAD_SLOT } from '@switchboard/protocol';
import { beforeEach, describe, expect, it } from 'vitest';
import { hashedSessionId, nextText, openStreamUrl, sessionStatus, type Socket } from './support/media.ts';
import { drainQueue, nextJob, takeJobs } from './support/sqs.ts';
import {
  foreignKey,
  postTelnyx,
  telnyxCallSid,
  telnyxConnected,
  telnyxForm,
  telnyxMedia,
  telnyxStart,
  texmlStreamUrl,
} from './support/telnyx.ts';
import { callSid as twilioCallSid, postSigned, voiceForm as twilioVoiceForm } from './support/twilio.ts';
import { claim, dialMedia, handover, type Claim } from './support/worker-client.ts';

/**
 * Telnyx TeXML at the edge: Ed25519-signed webhooks (voice: hold, then a `<Connect><Stream>` to
 * `/telnyx/media/<id>/<token>`; status), and the media stream, whose URL credential is checked by
 * the route (HMAC, expiry) and by the session (its last minted nonce, once) before the socket
 * terminates in the session's object and is relayed to the worker's media socket. A Telnyx stream
 * that closes ends the call (phone_hangup).
 */

beforeEach(drainQueue);

const FORBIDDEN = 'Forbidden: invalid Telnyx signature';

/**
 * A Telnyx call claimed by a worker: the voice webhook waits for the claim and answers with the
 * stream's TeXML; `media` is the worker's media socket.
 */
async function claimedCall(): Promise<{ callSid: string; id: string; worker: Claim; texml: string; streamUrl: string; resumeToken: string; media: Socket }> {
  const callSid = telnyxCallSid();
  const id = await hashedSessionId('tx', callSid);
  const pending = postTelnyx('/telnyx/voice', telnyxForm(callSid));
  const worker = await claim(await nextJob(id));
  const session = await handover(worker);
  const texml = await (await pending).text();
  const streamUrl = texmlStreamUrl(texml);
  if (!streamUrl) throw new Error(`no <Stream> in ${texml}`);
  const media = await dialMedia(id, session.resumeToken);
  expect(media.status).toBe(101);
  return { callSid, id, worker, texml, streamUrl, resumeToken: session.resumeToken, media };
}

describe('Telnyx webhook signatures', () => {
  it('refuses unsigned, forged, tampered and stale (301 s) webhooks with 403 text, queuing nothing', async () => {
    const callSid = telnyxCallSid();
    const form = telnyxForm(callSid);
    const unsigned = await SELF.fetch('http://edge.test/telnyx/voice', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
    for (const res of [
      unsigned,
      await postTelnyx('/telnyx/voice', form, { key: await foreignKey() }),
      await postTelnyx('/telnyx/voice', form, { tamper: true }),
      await postTelnyx('/telnyx/voice', form, { ageS: 301 }),
      await postTelnyx('/telnyx/status', telnyxForm(callSid, { CallStatus: 'completed' }), { ageS: 301 }),
    ]) {
      expect(res.status).toBe(403);
      expect(res.headers.get('Content-Type')).toMatch(/^text\/plain/);
      expect(await res.text()).toBe(FORBIDDEN);
    }
    expect(await takeJobs(10, 0)).toEqual([]);
  });

  it('accepts a signature within the 300 s window', async () => {
    // The status callback of an unknown call changes nothing and answers 200: only the signature is at stake.
    expect((await postTelnyx('/telnyx/status', telnyxForm(telnyxCallSid(), { CallStatus: 'in-progress' }), { ageS: 290 })).status).toBe(200);
  });
});

describe('POST /telnyx/voice', () => {
  it('holds until a worker claims, then answers TeXML connecting the stream to /telnyx/media/<id>/<token>', async () => {
    const callSid = telnyxCallSid();
    const id = await hashedSessionId('tx', callSid);
    const first = await postTelnyx('/telnyx/voice', telnyxForm(callSid));
    expect(first.status).toBe(200);
    expect(first.headers.get('Content-Type')).toBe('text/xml');
    const hold = await first.text();
    expect(hold).toContain('<Say>Please hold while we connect you.</Say>');
    expect(hold).toContain('<Pause length="1"/><Redirect method="POST">http://127.0.0.1:8787/telnyx/voice</Redirect>');
    expect(hold).not.toContain('<Stream');
    const jobs = await takeJobs(10, 0);
    expect(jobs.map((j) => j.job)).toMatchObject([{ sessionId: id, kind: 'phone' }]);
    const worker = await claim(jobs[0]!.job);
    const session = await handover(worker);
    expect(session).toMatchObject({
      kind: 'phone',
      iceServers: [],
      call: { provider: 'telnyx', callSid, from: '+15557654321', to: '+15550001111', direction: 'inbound' },
    });
    const texml = await (await postTelnyx('/telnyx/voice', telnyxForm(callSid, { CallStatus: 'in-progress' }))).text();
    const url = texmlStreamUrl(texml);
    expect(url).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:8787/telnyx/media/${id}/[\\w-]{22}\\.\\d+\\.[\\w-]+$`));
    // A two-way stream of the caller's track (the codec attributes are texml.test.ts's to pin).
    expect(texml).toMatch(/<Connect><Stream url="[^"]+" track="inbound_track" [^>]*bidirectionalMode="rtp"/);
    // When the stream ends, TeXML runs the <Redirect> after </Connect>: the webhook decides what next.
    expect(texml).toContain('</Connect><Redirect method="POST">http://127.0.0.1:8787/telnyx/voice</Redirect>');
    // Each connect mints a new single-use credential.
    const again = await (await postTelnyx('/telnyx/voice', telnyxForm(callSid, { CallStatus: 'in-progress' }))).text();
    expect(texmlStreamUrl(again)).not.toBe(url);
  });
});

describe('POST /telnyx/status', () => {
  it('answers 200; a completed call ends the session as phone_hangup, an in-progress one changes nothing', async () => {
    const { callSid, id, worker, media } = await claimedCall();
    const progress = await postTelnyx('/telnyx/status', telnyxForm(callSid, { CallStatus: 'in-progress' }));
    expect(progress.status).toBe(200);
    expect((await sessionStatus(id)).state).toBe('claimed');
    const done = await postTelnyx('/telnyx/status', telnyxForm(callSid, { CallStatus: 'completed' }));
    expect(done.status).toBe(200);
    expect(await worker.inbox.next()).toEqual({ type: 'hangup', reason: 'phone_hangup' });
    expect((await media.closed).code).toBe(1000);
    expect(await sessionStatus(id)).toMatchObject({ kind: 'phone', state: 'ended', reason: 'phone_hangup', callSid });
  });
});

describe('GET /telnyx/media/<id>/<token>', () => {
  it('refuses a forged, malformed or misplaced token at the route (403 text) and a plain GET (426)', async () => {
    const a = await claimedCall();
    const b = await claimedCall();
    const token = a.streamUrl.slice(a.streamUrl.lastIndexOf('/') + 1);
    const [nonce] = token.split('.');
    const forged = await openStreamUrl(`ws://127.0.0.1:8787/telnyx/media/${a.id}/${nonce}.9999999999999.${'A'.repeat(43)}`);
    expect(forged.status).toBe(403);
    expect(forged.body).toBe('Forbidden: stream token bad_signature');
    const malformed = await openStreamUrl(`ws://127.0.0.1:8787/telnyx/media/${a.id}/nope`);
    expect(malformed.status).toBe(403);
    expect(malformed.body).toBe('Forbidden: stream token malformed');
    // A's genuine token is bound to A's session: on B's URL it is a forgery.
    const crossed = await openStreamUrl(`ws://127.0.0.1:8787/telnyx/media/${b.id}/${token}`);
    expect(crossed.status).toBe(403);
    expect((await SELF.fetch(`http://edge.test${new URL(a.streamUrl).pathname}`)).status).toBe(426);
    // None of them used A's token up.
    const ok = await openStreamUrl(a.streamUrl);
    expect(ok.status).toBe(101);
  });

  it('takes the token minted last, once: a superseded token gets 403, a reused one 409 while its stream runs and 410 after', async () => {
    const { callSid, id, streamUrl: older, media } = await claimedCall();
    const newer = texmlStreamUrl(await (await postTelnyx('/telnyx/voice', telnyxForm(callSid, { CallStatus: 'in-progress' }))).text())!;
    const superseded = await openStreamUrl(older);
    expect(superseded.status).toBe(403);
    expect(superseded.body).toContain('stream token already used or superseded');
    const stream = await openStreamUrl(newer);
    expect(stream.status).toBe(101);
    const reused = await openStreamUrl(newer);
    expect(reused.status).toBe(409);
    stream.send(telnyxStart('stream-1', 'v3:control-1'));
    await nextText(media);
    stream.ws!.close(1000, 'hangup');
    await expect.poll(async () => (await sessionStatus(id)).state).toBe('ended');
    expect((await openStreamUrl(newer)).status).toBe(410);
  });

  it("is not a Twilio call's way in: a Twilio session's genuine token on the Telnyx route is refused (404)", async () => {
    const sid = twilioCallSid();
    const pending = postSigned('/twilio/voice', twilioVoiceForm(sid));
    await handover(await claim(await nextJob(`c_${sid}`)));
    const twiml = await (await pending).text();
    const token = /<Parameter name="token" value="([^"]+)"/.exec(twiml)?.[1];
    expect(token).toBeDefined();
    const res = await openStreamUrl(`ws://127.0.0.1:8787/telnyx/media/c_${sid}/${token}`);
    expect(res.status).toBe(404);
    expect(res.body).toContain('not a telnyx call');
  });

  it("relays the stream to the worker's media socket (start first, connected held back) and the worker's frames back", async () => {
    const { id, streamUrl, resumeToken, media } = await claimedCall();
    const stream = await openStreamUrl(streamUrl);
    expect(stream.status).toBe(101);
    const start = telnyxStart('32DE0DEA-53CB-4B21-89A4-9E1819C043BC', 'v3:control-2');
    const frame = telnyxMedia('32DE0DEA-53CB-4B21-89A4-9E1819C043BC', 2);
    stream.send(telnyxConnected);
    stream.send(start);
    stream.send(frame);
    expect(await nextText(media)).toBe(start);
    expect(await nextText(media)).toBe(frame);
    const out = [JSON.stringify({ event: 'media', media: { payload: 'f39/fw==' } }), JSON.stringify({ event: 'mark', mark: { name: 'm1' } })];
    media.send(out.join('\n'));
    expect([await nextText(stream), await nextText(stream)]).toEqual(out);
    // A relay batch (binary): the media frame's payload written in as base64, then its mark.
    const payload = Uint8Array.from({ length: 640 }, (_, i) => (i * 7) & 0xff);
    const template = JSON.stringify({ event: 'media', media: { payload: PAYLOAD_SLOT } });
    media.send(encodeRelayBatch([{ template, payload }, out[1]!]));
    expect(await nextText(stream)).toBe(JSON.stringify({ event: 'media', media: { payload: btoa(String.fromCharCode(...payload)) } }));
    expect(await nextText(stream)).toBe(out[1]);
    // A batch that does not decode is dropped whole; the relay goes on.
    media.send(encodeRelayBatch([{ template, payload }, out[1]!]).subarray(0, 20));
    media.send(out[1]!);
    expect(await nextText(stream)).toBe(out[1]);
    // A media socket dialled later (the worker's restart, a takeover) gets the stored start first and replaces the old one.
    const later = await dialMedia(id, resumeToken);
    expect(later.status).toBe(101);
    expect(await nextText(later)).toBe(start);
    expect(await media.closed).toEqual({ code: 1000, reason: 'replaced' });
  });

  it('ends the session as phone_hangup when the stream closes; the redirect after it then hangs up', async () => {
    const { callSid, id, worker, streamUrl, media } = await claimedCall();
    const stream = await openStreamUrl(streamUrl);
    stream.send(telnyxStart('stream-3', 'v3:control-3'));
    await nextText(media);
    worker.send({ type: 'state', state: 'live' });
    await expect.poll(async () => (await sessionStatus(id)).state).toBe('live');
    stream.ws!.close(1000, 'call ended');
    expect(await worker.inbox.next()).toEqual({ type: 'hangup', reason: 'phone_hangup' });
    expect((await media.closed).code).toBe(1000);
    expect(await sessionStatus(id)).toMatchObject({ state: 'ended', reason: 'phone_hangup', detail: 'media stream closed (1000)' });
    const after = await (await postTelnyx('/telnyx/voice', telnyxForm(callSid, { CallStatus: 'in-progress' }))).text();
    expect(after).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>');
  });
});
