import { beforeEach, describe, expect, it } from 'vitest';
import { CallResponse, ErrorBody, SessionStatus, type ControlToWorker, type RecordingSaved } from '@switchboard/protocol';
import { ANSWER, chromeOffer } from '../../test/fixtures/sdp.ts';
import { bearer, mintToken, request } from './support/edge-auth.ts';
import { socketOf } from './support/media.ts';
import { drainQueue, nextJob } from './support/sqs.ts';
import { claim, handover, type Claim } from './support/worker-client.ts';

/**
 * Recording, the edge's part (AUTH_MODE=token): `?record=true` on WHIP and `/v1/stream`, and
 * `"record": true` on `/v1/calls`, reach the worker's `session` handover as `record: true`; the
 * status says `recording` while it runs; after the session ends, the control socket of a recorded
 * session stays open so the worker's `recording.saved` lands in the status (file URIs for API
 * keys, names and lengths only for the client's token).
 */

beforeEach(drainQueue);

const SAVED: RecordingSaved = {
  tracks: [
    { track: 'mix', uri: 's3://calls/recordings/x/mix.ogg', bytes: 4242, durationMs: 3000 },
    { track: 'leg-a', uri: 's3://calls/recordings/x/leg-a.ogg', bytes: 2121, durationMs: 2980 },
  ],
  failed: [{ track: 'leg-b', error: 'disk full' }],
};

const offer = (query: string, token: string) =>
  request(`/v1/sessions${query}`, { method: 'POST', headers: { 'Content-Type': 'application/sdp', ...bearer(token) }, body: chromeOffer() });
const status = async (location: string, token: string) => {
  const res = await request(`${location}/status`, { headers: bearer(token) });
  expect(res.status).toBe(200);
  return SessionStatus.parse(await res.json());
};

/** A WHIP session created with `query`, claimed and answered by a fake worker: its handover and control socket. */
async function webrtc(query: string, token: string): Promise<{ location: string; c: Claim; session: Extract<ControlToWorker, { type: 'session' }> }> {
  const pending = offer(query, token);
  const c = await claim(await nextJob());
  expect(c.status).toBe(101);
  const session = await handover(c);
  c.send({ type: 'answer', sdp: ANSWER });
  const res = await pending;
  expect(res.status).toBe(201);
  return { location: res.headers.get('Location')!, c, session };
}

async function nextOf<T extends ControlToWorker['type']>(c: Claim, type: T): Promise<Extract<ControlToWorker, { type: T }>> {
  for (;;) {
    const m = await c.inbox.next();
    if (m.type === type) return m as Extract<ControlToWorker, { type: T }>;
  }
}

/** Polls the status (as the API key) until `pred` holds. */
async function statusUntil(location: string, pred: (s: SessionStatus) => boolean): Promise<SessionStatus> {
  for (let i = 0; i < 200; i++) {
    const s = await status(location, 'key-one');
    if (pred(s)) return s;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`status of ${location} never matched`);
}

describe('recorded WebRTC sessions', () => {
  it('hand `record: true` to the worker, show recording, and take recording.saved after the hang-up', async () => {
    const token = await mintToken({ identity: `rec-${crypto.randomUUID()}` });
    const { location, c, session } = await webrtc('?record=true', token);
    expect(session.record).toBe(true);
    c.send({ type: 'state', state: 'live' });
    expect((await status(location, token)).recording).toEqual({ state: 'recording' });
    expect((await status(location, 'key-one')).recording).toEqual({ state: 'recording' });

    // The client hangs up: the worker is told, and its control socket stays open for the files.
    const del = await request(location, { method: 'DELETE', headers: bearer(token) });
    expect(del.status).toBe(200);
    expect(SessionStatus.parse(await del.json())).toMatchObject({ state: 'ended', reason: 'client_hangup', recording: { state: 'recording' } });
    expect(await nextOf(c, 'hangup')).toEqual({ type: 'hangup', reason: 'client_hangup' });
    expect(c.ws!.readyState).toBe(WebSocket.OPEN);
    c.send({ type: 'recording.saved', ...SAVED });

    // The API key sees where the files are; the client's token their names and lengths only.
    const byKey = await statusUntil(location, (s) => s.recording?.state === 'saved');
    expect(byKey).toMatchObject({ state: 'ended', reason: 'client_hangup' });
    expect(byKey.recording).toEqual({ state: 'saved', ...SAVED });
    expect((await status(location, token)).recording).toEqual({
      state: 'saved',
      tracks: SAVED.tracks.map((t) => ({ ...t, uri: '' })),
      failed: SAVED.failed,
    });
    c.ws!.close(1000, 'done');
  });

  it('an unrecorded session has no recording, no `record` in its handover, and its control socket closes at the end', async () => {
    const token = await mintToken({ identity: `norec-${crypto.randomUUID()}` });
    for (const query of ['', '?record=false']) {
      const { location, c, session } = await webrtc(query, token);
      expect(session.record).toBeUndefined();
      expect((await status(location, token)).recording).toBeUndefined();
      expect((await request(location, { method: 'DELETE', headers: bearer(token) })).status).toBe(200);
      expect(await c.closed).toMatchObject({ code: 1000, reason: 'client_hangup' });
    }
  });

  it('refuses any other value of record with 400, and gives the client its slot back', async () => {
    const token = await mintToken({ identity: `bad-${crypto.randomUUID()}` });
    // One more than MAX_SESSIONS_PER_CLIENT (5): a slot kept by a refused request would show as a 429.
    for (const value of ['yes', '1', 'TRUE', '', 'true,true', 'on']) {
      const res = await offer(`?record=${value}`, token);
      expect(res.status, value).toBe(400);
      expect(ErrorBody.parse(await res.json()).error).toEqual({ code: 'bad_request', message: 'record must be true or false' });
    }
    const stream = await request('/v1/stream?record=maybe', { headers: { Upgrade: 'websocket', ...bearer(token) } });
    expect(stream.status).toBe(400);
    const { location } = await webrtc('?record=true', token);
    expect((await request(location, { method: 'DELETE', headers: bearer(token) })).status).toBe(200);
  });
});

describe('recorded stream clients and phone calls', () => {
  it('GET /v1/stream?record=true hands `record: true` to the worker', async () => {
    const token = await mintToken({ identity: `stream-rec-${crypto.randomUUID()}` });
    const client = await socketOf(await request('/v1/stream?record=true', { headers: { Upgrade: 'websocket', ...bearer(token) } }));
    expect(client.status).toBe(101);
    const job = await nextJob();
    expect(job.kind).toBe('stream');
    const c = await claim(job);
    expect((await handover(c)).record).toBe(true);
    expect((await status(`/v1/sessions/${job.sessionId}`, token)).recording).toEqual({ state: 'recording' });
    client.ws!.close(1000, 'bye');
    c.ws!.close(1000, 'done');
  });

  it('POST /v1/calls with "record": true records the call; recording.saved lands after the end', async () => {
    const placed = await request('/v1/calls', {
      method: 'POST',
      headers: { ...bearer('key-one'), 'Content-Type': 'application/json' },
      body: JSON.stringify({ to: '+15551230001', record: true }),
    });
    expect(placed.status).toBe(201);
    const { sessionId } = CallResponse.parse(await placed.json());
    const c = await claim(await nextJob(sessionId));
    expect((await handover(c)).record).toBe(true);
    const location = `/v1/sessions/${sessionId}`;
    expect((await status(location, 'key-two')).recording).toEqual({ state: 'recording' });
    expect((await request(location, { method: 'DELETE', headers: bearer('key-one') })).status).toBe(200);
    expect(await nextOf(c, 'hangup')).toMatchObject({ type: 'hangup' });
    c.send({ type: 'recording.saved', tracks: SAVED.tracks });
    expect((await statusUntil(location, (s) => s.recording?.state === 'saved')).recording).toEqual({ state: 'saved', tracks: SAVED.tracks });
    c.ws!.close(1000, 'done');

    const bad = await request('/v1/calls', {
      method: 'POST',
      headers: { ...bearer('key-one'), 'Content-Type': 'application/json' },
      body: JSON.stringify({ to: '+15551230002', record: 'yes' }),
    });
    expect(bad.status).toBe(400);
    expect(ErrorBody.parse(await bad.json()).error.message).toContain('record');
  });
});
