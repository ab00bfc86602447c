import { SELF, env } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import { LegResponse, SessionStatus, type ControlToWorker } from '@switchboard/protocol';
import { nextText, type Socket } from './support/media.ts';
import { drainQueue, nextJob } from './support/sqs.ts';
import { callSid, postSigned, streamSid, twilioConnected, twilioMedia, twilioStart, twilioStream, voiceForm } from './support/twilio.ts';
import { claim, dialMedia, handover, type Claim } from './support/worker-client.ts';

/**
 * Legs (`POST /v1/sessions/{id}/legs`): a phone number dialled into a running session through the
 * provider's REST API (the stack's protocol-level fake), its call carried by its own object (`l_`
 * id, named in its webhooks' `?leg=`), handed straight to the session's worker over the control
 * socket (no queue), relayed to that worker's media socket for the leg; hang-up by DELETE, by the
 * provider's status callback or by the worker; legs in the status; the legs moved with a takeover.
 */

beforeEach(drainQueue);

type Requests = Array<{ method: string; path: string; form: [string, string][] }>;
const apiRequests = async (): Promise<Requests> => (await fetch(`${env.TWILIO_API_BASE}/__requests`)).json();

/** A claimed inbound Twilio call with its stream attached: the session legs are added to. */
async function liveCall(workerId = 'w-legs'): Promise<{ id: string; worker: Claim; media: Socket; resumeToken: string }> {
  const sid = callSid();
  const id = `c_${sid}`;
  const pending = postSigned('/twilio/voice', voiceForm(sid));
  const worker = await claim(await nextJob(id), workerId);
  const session = await handover(worker);
  const twiml = await (await pending).text();
  const media = await dialMedia(id, session.resumeToken, workerId);
  const stream = await twilioStream(id);
  stream.ws!.send(twilioConnected);
  stream.ws!.send(twilioStart({ sid, stream: streamSid('a'), twiml }));
  await nextText(media); // the start
  worker.send({ type: 'state', state: 'live' });
  return { id, worker, media, resumeToken: session.resumeToken };
}

const addLeg = (id: string, body: unknown) =>
  SELF.fetch(`http://edge.test/v1/sessions/${id}/legs`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
const status = async (id: string) => SessionStatus.parse(await (await SELF.fetch(`http://edge.test/v1/sessions/${id}/status`)).json());

async function nextOf<T extends ControlToWorker['type']>(c: Claim, type: T): Promise<Extract<ControlToWorker, { type: T }>> {
  for (;;) {
    const m = await c.inbox.next();
    if (m.type === type) return m as Extract<ControlToWorker, { type: T }>;
  }
}

/** The callee answers: the leg's voice webhook (as Twilio requests the Url it was given), then its stream. */
async function answer(legId: string, legCallSid: string): Promise<Socket> {
  const twiml = await (await postSigned(`/twilio/voice?leg=${legId}`, voiceForm(legCallSid, { Direction: 'outbound-api', CallStatus: 'in-progress' }))).text();
  expect(twiml).toContain(`/twilio/media/${legId}`);
  const stream = await twilioStream(legId);
  stream.ws!.send(twilioConnected);
  stream.ws!.send(twilioStart({ sid: legCallSid, stream: streamSid('b'), twiml }));
  return stream;
}

describe('legs', () => {
  it('dials a leg, hands it to the worker at once, relays its stream, lists it, and hangs it up on DELETE', async () => {
    const { id, worker } = await liveCall();
    const res = await addLeg(id, { to: '+15550100042' });
    expect(res.status).toBe(201);
    const { legId, callSid: legSid } = LegResponse.parse(await res.json());
    expect(res.headers.get('Location')).toBe(`/v1/sessions/${id}/legs/${legId}`);
    // Placed through the provider, its webhooks naming the leg.
    const placed = (await apiRequests()).filter((r) => r.path.endsWith('/Calls.json')).at(-1)!;
    const form = Object.fromEntries(placed.form);
    expect(form).toMatchObject({ To: '+15550100042', Url: `http://127.0.0.1:8787/twilio/voice?leg=${legId}`, StatusCallback: `http://127.0.0.1:8787/twilio/status?leg=${legId}` });
    // The worker hears of it over the control socket, with a token for the leg's media socket.
    const add = await nextOf(worker, 'leg.add');
    expect(add.leg).toMatchObject({ legId, call: { provider: 'twilio', callSid: legSid, to: '+15550100042', direction: 'outbound' } });
    const legMedia = await dialMedia(legId, add.leg.resumeToken, 'w-legs');
    expect(legMedia.status).toBe(101);
    expect((await status(id)).legs).toMatchObject([
      { legId: id, kind: 'phone', state: 'joined' },
      { legId, kind: 'phone', state: 'dialing', provider: 'twilio', callSid: legSid, to: '+15550100042' },
    ]);
    // Another worker may not carry the leg.
    expect((await dialMedia(legId, add.leg.resumeToken, 'w-other')).status).toBe(409);

    const callee = await answer(legId, legSid);
    expect(JSON.parse(await nextText(legMedia))).toMatchObject({ event: 'start', start: { callSid: legSid } });
    callee.ws!.send(twilioMedia(streamSid('b'), 2));
    expect(JSON.parse(await nextText(legMedia))).toMatchObject({ event: 'media' });
    legMedia.ws!.send(JSON.stringify({ event: 'media', streamSid: streamSid('b'), media: { payload: '/////w==' } }));
    expect(JSON.parse(await nextText(callee))).toMatchObject({ event: 'media' });
    worker.send({ type: 'leg.joined', legId });
    await expect.poll(async () => (await status(id)).legs?.[1]?.state).toBe('joined');

    const del = await SELF.fetch(`http://edge.test/v1/sessions/${id}/legs/${legId}`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(await del.json()).toMatchObject({ legId, state: 'left', reason: 'client_hangup' });
    expect(await nextOf(worker, 'leg.remove')).toEqual({ type: 'leg.remove', legId, reason: 'client_hangup' });
    // Hung up at the provider, and the leg's sockets closed.
    const hangup = (await apiRequests()).filter((r) => r.path.endsWith(`/Calls/${legSid}.json`)).at(-1);
    expect(Object.fromEntries(hangup!.form)).toMatchObject({ Status: 'completed' });
    await legMedia.closed;
    await callee.closed;
    // The session itself goes on.
    expect((await status(id)).state).toBe('live');
    expect((await SELF.fetch(`http://edge.test/v1/sessions/${id}/legs/${legId}`, { method: 'DELETE' })).status).toBe(200);
  });

  it('a leg that does not answer leaves with the provider\'s reason; the worker is told', async () => {
    const { id, worker } = await liveCall();
    const { legId, callSid: legSid } = LegResponse.parse(await (await addLeg(id, { to: '+15550100043' })).json());
    await nextOf(worker, 'leg.add');
    const cb = await postSigned(`/twilio/status?leg=${legId}`, voiceForm(legSid, { CallStatus: 'no-answer', Direction: 'outbound-api' }));
    expect(cb.status).toBe(204);
    expect(await nextOf(worker, 'leg.remove')).toEqual({ type: 'leg.remove', legId, reason: 'call_failed', detail: 'no-answer' });
    expect((await status(id)).legs?.[1]).toMatchObject({ legId, state: 'left', reason: 'call_failed' });
    // A late webhook for the finished leg hangs up rather than connecting.
    const late = await (await postSigned(`/twilio/voice?leg=${legId}`, voiceForm(legSid, { Direction: 'outbound-api' }))).text();
    expect(late).toContain('<Hangup/>');
  });

  it('the worker reports a leg whose stream stopped; the session\'s end hangs up every leg still up', async () => {
    const { id, worker } = await liveCall();
    const one = LegResponse.parse(await (await addLeg(id, { to: '+15550100044' })).json());
    const two = LegResponse.parse(await (await addLeg(id, { to: '+15550100045' })).json());
    await nextOf(worker, 'leg.add');
    await nextOf(worker, 'leg.add');
    worker.send({ type: 'leg.left', legId: one.legId, reason: 'phone_hangup' });
    await expect.poll(async () => (await status(id)).legs?.[1]?.state).toBe('left');
    expect((await status(id)).legs?.[1]).toMatchObject({ reason: 'phone_hangup' });
    const ended = await SELF.fetch(`http://edge.test/v1/sessions/${id}`, { method: 'DELETE' });
    expect(ended.status).toBe(200);
    expect((await status(id)).legs?.[2]).toMatchObject({ legId: two.legId, state: 'left', reason: 'client_hangup' });
    const hungUp = (await apiRequests()).filter((r) => r.path.endsWith(`/Calls/${two.callSid}.json`));
    expect(hungUp.length).toBeGreaterThan(0);
  });

  it('a takeover hands the new worker every leg still up; the old worker can no longer carry them', async () => {
    const { id, worker } = await liveCall('w-old');
    const { legId, callSid: legSid } = LegResponse.parse(await (await addLeg(id, { to: '+15550100046' })).json());
    const add = await nextOf(worker, 'leg.add');
    const oldMedia = await dialMedia(legId, add.leg.resumeToken, 'w-old');
    expect(oldMedia.status).toBe(101);
    const callee = await answer(legId, legSid);
    await nextText(oldMedia);
    worker.ws!.close(1012, 'handoff');
    const next = await claim(await nextJob(id), 'w-new');
    const taken = await handover(next);
    expect(taken.takeover).toBe(true);
    expect(taken.legs).toMatchObject([{ legId, call: { callSid: legSid } }]);
    await oldMedia.closed;
    expect((await dialMedia(legId, add.leg.resumeToken, 'w-old')).status).toBe(409);
    const newMedia = await dialMedia(legId, taken.legs![0]!.resumeToken, 'w-new');
    expect(newMedia.status).toBe(101);
    // The stream's start comes first, then its frames.
    expect(JSON.parse(await nextText(newMedia))).toMatchObject({ event: 'start' });
    callee.ws!.send(twilioMedia(streamSid('b'), 3));
    expect(JSON.parse(await nextText(newMedia))).toMatchObject({ event: 'media' });
  });

  it('refuses bad requests: unknown session, bad body, a session not yet claimed, unknown legs, too many legs', async () => {
    expect((await addLeg('s_' + '0'.repeat(32), { to: '+15550100047' })).status).toBe(404);
    const { id } = await liveCall();
    expect((await addLeg(id, { to: '12' })).status).toBe(400);
    expect((await addLeg(id, { to: '+15550100047', extra: 1 })).status).toBe(400);
    expect((await SELF.fetch(`http://edge.test/v1/sessions/${id}/legs/l_${'0'.repeat(32)}`, { method: 'DELETE' })).status).toBe(404);
    expect((await SELF.fetch(`http://edge.test/v1/sessions/${id}/legs/nope`, { method: 'DELETE' })).status).toBe(404);
    // The provider's own refusal (an invalid number) passes through, and the leg is recorded as failed.
    expect((await addLeg(id, { to: '+15005550001' })).status).toBe(400);
    expect((await status(id)).legs?.at(-1)).toMatchObject({ state: 'left', reason: 'call_failed' });
    for (let i = 0; i < 5; i++) expect((await addLeg(id, { to: `+1555010006${i}` })).status).toBe(201);
    const full = await addLeg(id, { to: '+15550100069' });
    expect(full.status).toBe(409);
    expect(await full.json()).toMatchObject({ error: { code: 'too_many_legs' } });
    // A session nobody has claimed yet cannot dial.
    const queued = `c_${callSid()}`;
    void postSigned('/twilio/voice', voiceForm(queued.slice(2)));
    await nextJob(queued);
    const early = await addLeg(queued, { to: '+15550100048' });
    expect(early.status).toBe(409);
  });
});
