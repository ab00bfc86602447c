import { SELF } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import { ErrorBody, SessionStatus } from '@switchboard/protocol';
import { drainQueue, nextJob } from './support/sqs.ts';
import { ANSWER, chromeOffer } from '../../test/fixtures/sdp.ts';
import { claim } from './support/worker-client.ts';

const EDGE = 'http://edge.test';

function post(body: string, contentType = 'application/sdp') {
  return SELF.fetch(`${EDGE}/v1/sessions`, { method: 'POST', headers: { 'Content-Type': contentType }, body });
}

async function errorOf(res: Response) {
  return ErrorBody.parse(await res.json()).error;
}

/** Starts a WHIP POST and serves it as a worker would: take the job, claim, answer. */
async function establish() {
  const pending = post(chromeOffer());
  const job = await nextJob();
  const c = await claim(job);
  expect(c.status).toBe(101);
  const session = await c.inbox.next();
  if (session.type !== 'session') throw new Error(`expected session, got ${session.type}`);
  c.send({ type: 'answer', sdp: ANSWER });
  const res = await pending;
  return { res, job, c, session };
}

beforeEach(drainQueue);

describe('POST /v1/sessions (WHIP)', () => {
  it('queues a job, hands the offer to the claiming worker, and returns its answer', async () => {
    const { res, job, session } = await establish();
    expect(res.status).toBe(201);
    expect(res.headers.get('Content-Type')).toBe('application/sdp');
    expect(await res.text()).toBe(ANSWER);
    expect(res.headers.get('Location')).toBe(`/v1/sessions/${job.sessionId}`);
    expect(res.headers.get('ETag')).toMatch(/^"[0-9a-f-]{36}"$/);
    expect(job.kind).toBe('webrtc');
    expect(job.expiresAt).toBeGreaterThan(job.createdAt);
    expect(session.type === 'session' && session.offer).toBe(chromeOffer());
    expect(session.type === 'session' && session.iceServers).toEqual([]);
  });

  it('moves the session through claimed to live, then ends it on DELETE and tells the worker', async () => {
    const { res, c } = await establish();
    const location = res.headers.get('Location')!;
    let st = SessionStatus.parse(await (await SELF.fetch(`${EDGE}${location}/status`)).json());
    expect(st.state).toBe('claimed');
    expect(st.workerId).toBe('w-test');
    c.send({ type: 'state', state: 'live' });
    await expect.poll(async () => (await (await SELF.fetch(`${EDGE}${location}/status`)).json<{ state: string }>()).state).toBe('live');
    const del = await SELF.fetch(`${EDGE}${location}`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    const hangup = await c.inbox.next();
    expect(hangup).toEqual({ type: 'hangup', reason: 'client_hangup' });
    expect((await c.closed).code).toBe(1000);
    st = SessionStatus.parse(await (await SELF.fetch(`${EDGE}${location}/status`)).json());
    expect(st).toMatchObject({ state: 'ended', reason: 'client_hangup' });
    // DELETE is idempotent; PATCH on an ended session is 404.
    expect((await SELF.fetch(`${EDGE}${location}`, { method: 'DELETE' })).status).toBe(200);
    const patch = await SELF.fetch(`${EDGE}${location}`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/trickle-ice-sdpfrag' },
      body: 'a=mid:0\r\na=candidate:1 1 udp 2122260223 192.0.2.10 50000 typ host\r\n',
    });
    expect(patch.status).toBe(404);
  });

  it('relays trickled candidates from PATCH to the worker', async () => {
    const { res, c } = await establish();
    const location = res.headers.get('Location')!;
    const patch = await SELF.fetch(`${EDGE}${location}`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/trickle-ice-sdpfrag', 'If-Match': res.headers.get('ETag')! },
      body: 'a=ice-ufrag:aB3d\r\na=ice-pwd:Xz8kVh4mQ2pL7rT9wE3yU6iO\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:1 1 udp 2122260223 192.0.2.10 50000 typ host\r\na=end-of-candidates\r\n',
    });
    expect(patch.status).toBe(204);
    expect(await c.inbox.next()).toEqual({
      type: 'candidates',
      ufrag: 'aB3d',
      pwd: 'Xz8kVh4mQ2pL7rT9wE3yU6iO',
      candidates: [{ mid: '0', candidate: 'candidate:1 1 udp 2122260223 192.0.2.10 50000 typ host' }],
      endOfCandidates: true,
    });
  });

  it('rejects PATCH errors: wrong type 415, malformed 400, stale If-Match 412, ICE restart 400', async () => {
    const { res } = await establish();
    const location = `${EDGE}${res.headers.get('Location')}`;
    const patch = (body: string, headers: Record<string, string>) => SELF.fetch(location, { method: 'PATCH', headers, body });
    const frag = 'a=mid:0\r\na=candidate:1 1 udp 2122260223 192.0.2.10 50000 typ host\r\n';
    expect((await patch(frag, { 'Content-Type': 'text/plain' })).status).toBe(415);
    const bad = await patch('a=candidate:garbage\r\n', { 'Content-Type': 'application/trickle-ice-sdpfrag' });
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).code).toBe('bad_sdpfrag');
    const stale = await patch(frag, { 'Content-Type': 'application/trickle-ice-sdpfrag', 'If-Match': '"nope"' });
    expect(stale.status).toBe(412);
    const restart = await patch('a=ice-ufrag:zzzz\r\na=ice-pwd:Xz8kVh4mQ2pL7rT9wE3yU6iOab\r\n', { 'Content-Type': 'application/trickle-ice-sdpfrag' });
    expect(restart.status).toBe(400);
  });

  it('answers 503 with Retry-After when no worker claims within CLAIM_TIMEOUT_MS', async () => {
    const started = Date.now();
    const res = await post(chromeOffer());
    expect(res.status).toBe(503);
    expect(res.headers.get('Retry-After')).toBe('5');
    expect((await errorOf(res)).code).toBe('no_worker');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    // The job is still on the queue but expired: a late claim is refused with 410.
    const job = await nextJob();
    const late = await claim(job);
    expect(late.status).toBe(410);
    const st = await (await SELF.fetch(`${EDGE}/v1/sessions/${job.sessionId}/status`)).json<{ state: string; reason: string }>();
    expect(st).toMatchObject({ state: 'ended', reason: 'claim_timeout' });
  });

  it('rejects bad offers: 415 wrong type, 413 over 64 KB, 400 malformed, no audio, no ICE, no fingerprint', async () => {
    expect((await post(chromeOffer(), 'text/plain')).status).toBe(415);
    const big = await post(chromeOffer() + 'a=x-pad:' + 'x'.repeat(70_000) + '\r\n');
    expect(big.status).toBe(413);
    expect((await errorOf(big)).code).toBe('payload_too_large');
    for (const [body, words] of [
      ['hello', 'v=0'],
      [chromeOffer({ audio: false }), 'audio'],
      [chromeOffer({ ufrag: '!' }), 'ice-ufrag'],
      [chromeOffer({ fingerprint: false }), 'fingerprint'],
    ] as const) {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect((await errorOf(res)).message).toContain(words);
    }
  });
});

describe('session status', () => {
  it('is 404 for unknown and malformed ids', async () => {
    const unknown = await SELF.fetch(`${EDGE}/v1/sessions/s_${'0'.repeat(32)}/status`);
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown)).code).toBe('not_found');
    expect((await SELF.fetch(`${EDGE}/v1/sessions/../../etc/status`)).status).toBe(404);
    expect((await SELF.fetch(`${EDGE}/v1/sessions/nope`, { method: 'DELETE' })).status).toBe(404);
  });
});
