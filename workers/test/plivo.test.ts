import { SELF } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import { hashedSessionId, nextText, openStreamUrl, sessionStatus, type Socket } from './support/media.ts';
import { plivoCallUuid, plivoForm, plivoStart, plivoStreamUrl, postPlivo } from './support/plivo.ts';
import { drainQueue, nextJob, takeJobs } from './support/sqs.ts';
import { claim, dialMedia, handover, type Claim } from './support/worker-client.ts';

/**
 * Plivo at the edge: V3-signed webhooks (over PUBLIC_BASE_URL + path, the form params and the
 * nonce; voice: hold, then a bidirectional `<Stream>` to `/plivo/media/<id>/<token>`; status), and
 * the Audio Stream, whose URL credential is checked by the route (HMAC, expiry) and by the session
 * (its last minted nonce, once), then relayed to the worker's media socket. A Plivo stream that
 * closes ends the call (phone_hangup).
 */

beforeEach(drainQueue);

const FORBIDDEN = 'Forbidden: invalid Plivo signature';

/** A Plivo call claimed by a worker, with the answer's stream URL and the worker's media socket. */
async function claimedCall(): Promise<{ uuid: string; id: string; worker: Claim; xml: string; streamUrl: string; resumeToken: string; media: Socket }> {
  const uuid = plivoCallUuid();
  const id = await hashedSessionId('pv', uuid);
  const pending = postPlivo('/plivo/voice', plivoForm(uuid));
  const worker = await claim(await nextJob(id));
  const session = await handover(worker);
  const xml = await (await pending).text();
  const streamUrl = plivoStreamUrl(xml);
  if (!streamUrl) throw new Error(`no <Stream> in ${xml}`);
  const media = await dialMedia(id, session.resumeToken);
  expect(media.status).toBe(101);
  return { uuid, id, worker, xml, streamUrl, resumeToken: session.resumeToken, media };
}

describe('Plivo webhook signatures (V3)', () => {
  it('refuses unsigned, wrong-key, bad-nonce, tampered and other-URL webhooks with 403 text, queuing nothing', async () => {
    const form = plivoForm(plivoCallUuid());
    const unsigned = await SELF.fetch('http://edge.test/plivo/voice', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
    for (const res of [
      unsigned,
      await postPlivo('/plivo/voice', form, { token: 'not-the-auth-token' }),
      // Signed with one nonce, sent with another: the nonce is part of what is signed.
      await postPlivo('/plivo/voice', form, { headerNonce: 'another-nonce' }),
      await postPlivo('/plivo/voice', form, { tamper: true }),
      // Signed for another edge's URL: the signature binds PUBLIC_BASE_URL + path.
      await postPlivo('/plivo/voice', form, { signedBase: 'https://elsewhere.example' }),
      await postPlivo('/plivo/status', { ...form, CallStatus: 'completed' }, { tamper: true }),
    ]) {
      expect(res.status).toBe(403);
      expect(res.headers.get('Content-Type')).toMatch(/^text\/plain/);
      expect(await res.text()).toBe(FORBIDDEN);
    }
    expect(await takeJobs(10, 0)).toEqual([]);
  });
});

describe('POST /plivo/voice', () => {
  it('holds until a worker claims, then answers Plivo XML streaming to /plivo/media/<id>/<token>', async () => {
    const uuid = plivoCallUuid();
    const id = await hashedSessionId('pv', uuid);
    const first = await postPlivo('/plivo/voice', plivoForm(uuid));
    expect(first.status).toBe(200);
    expect(first.headers.get('Content-Type')).toBe('application/xml');
    const hold = await first.text();
    expect(hold).toContain('<Speak>Please hold while we connect you.</Speak>');
    expect(hold).toMatch(/<Wait length="\d+"\/><Redirect method="POST">http:\/\/127\.0\.0\.1:8787\/plivo\/voice<\/Redirect>/);
    expect(hold).not.toContain('<Stream');
    const jobs = await takeJobs(10, 0);
    expect(jobs.map((j) => j.job)).toMatchObject([{ sessionId: id, kind: 'phone' }]);
    const worker = await claim(jobs[0]!.job);
    expect(await handover(worker)).toMatchObject({
      kind: 'phone',
      call: { provider: 'plivo', callSid: uuid, from: '15557654321', to: '15550001111', direction: 'inbound' },
    });
    const xml = await (await postPlivo('/plivo/voice', plivoForm(uuid))).text();
    const url = plivoStreamUrl(xml);
    expect(url).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:8787/plivo/media/${id}/[\\w-]{22}\\.\\d+\\.[\\w-]+$`));
    // Two-way, and the call stays up while the stream runs; the redirect after it asks what next.
    expect(xml).toMatch(/<Stream [^>]*bidirectional="true"[^>]*keepCallAlive="true"/);
    expect(xml).toContain('</Stream><Redirect method="POST">http://127.0.0.1:8787/plivo/voice</Redirect>');
  });
});

describe('POST /plivo/status', () => {
  it('answers 200; a completed call ends the session as phone_hangup, an in-progress one changes nothing', async () => {
    const { uuid, id, worker, media } = await claimedCall();
    expect((await postPlivo('/plivo/status', plivoForm(uuid, { CallStatus: 'in-progress' }))).status).toBe(200);
    expect((await sessionStatus(id)).state).toBe('claimed');
    const done = await postPlivo('/plivo/status', plivoForm(uuid, { CallStatus: 'completed', HangupCause: 'NORMAL_CLEARING', Duration: '12' }));
    expect(done.status).toBe(200);
    expect(await worker.inbox.next()).toEqual({ type: 'hangup', reason: 'phone_hangup' });
    expect((await media.closed).code).toBe(1000);
    expect(await sessionStatus(id)).toMatchObject({ state: 'ended', reason: 'phone_hangup', callSid: uuid });
  });
});

describe('GET /plivo/media/<id>/<token>', () => {
  it('refuses a forged or malformed token (403 text), a superseded one (403), a reused one (409 while attached)', async () => {
    const { uuid, id, streamUrl: older } = await claimedCall();
    const [nonce] = older.slice(older.lastIndexOf('/') + 1).split('.');
    const forged = await openStreamUrl(`ws://127.0.0.1:8787/plivo/media/${id}/${nonce}.9999999999999.${'A'.repeat(43)}`);
    expect(forged.status).toBe(403);
    expect(forged.body).toBe('Forbidden: stream token bad_signature');
    expect((await openStreamUrl(`ws://127.0.0.1:8787/plivo/media/${id}/x`)).status).toBe(403);
    const newer = plivoStreamUrl(await (await postPlivo('/plivo/voice', plivoForm(uuid))).text())!;
    const superseded = await openStreamUrl(older);
    expect(superseded.status).toBe(403);
    expect(superseded.body).toContain('stream token already used or superseded');
    expect((await openStreamUrl(newer)).status).toBe(101);
    expect((await openStreamUrl(newer)).status).toBe(409);
  });

  it("relays Plivo's start to the worker's media socket, frames both ways, and refuses a stream not starting with start", async () => {
    const { uuid, id, streamUrl, resumeToken, media } = await claimedCall();
    const stream = await openStreamUrl(streamUrl);
    expect(stream.status).toBe(101);
    const start = plivoStart('stream-1', uuid);
    stream.send(start);
    expect(await nextText(media)).toBe(start);
    const frame = JSON.stringify({ event: 'media', sequenceNumber: 1, streamId: 'stream-1', media: { track: 'inbound', timestamp: '20', chunk: 1, payload: 'AAAA' } });
    stream.send(frame);
    expect(await nextText(media)).toBe(frame);
    const out = [JSON.stringify({ event: 'playAudio', media: { contentType: 'audio/x-l16', sampleRate: 16000, payload: 'AAAA' } }), JSON.stringify({ event: 'checkpoint', streamId: 'stream-1', name: 'c1' })];
    media.send(out.join('\n'));
    expect([await nextText(stream), await nextText(stream)]).toEqual(out);
    const later = await dialMedia(id, resumeToken);
    expect(await nextText(later)).toBe(start);

    // Plivo sends no `connected`: the first frame of another call's stream must be its start.
    const other = await claimedCall();
    const early = await openStreamUrl(other.streamUrl);
    early.send(JSON.stringify({ event: 'connected' }));
    expect(await early.closed).toMatchObject({ code: 1008, reason: 'expected start first' });
  });

  it('ends the session as phone_hangup when the stream closes', async () => {
    const { uuid, id, worker, streamUrl, media } = await claimedCall();
    const stream = await openStreamUrl(streamUrl);
    stream.send(plivoStart('stream-2', uuid));
    await nextText(media);
    stream.ws!.close(1000, 'hangup');
    expect(await worker.inbox.next()).toEqual({ type: 'hangup', reason: 'phone_hangup' });
    expect((await media.closed).code).toBe(1000);
    expect(await sessionStatus(id)).toMatchObject({ state: 'ended', reason: 'phone_hangup', detail: 'media stream closed (1000)' });
    expect((await openStreamUrl(streamUrl)).status).toBe(410);
    const after = await (await postPlivo('/plivo/voice', plivoForm(uuid))).text();
    expect(after).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>');
  });
});
