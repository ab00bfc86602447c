import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from '../support/inject.ts';
import { UdpMux } from '../../media-worker/src/werift-patches/udp-mux.ts';
import { createMetrics, type Metrics } from '../../media-worker/src/http/metrics.ts';
import type { VadFactory } from '../../media-worker/src/pipeline/session-pipeline.ts';
import { CONNECT_TIMEOUT_MS } from '../../media-worker/src/transport/webrtc/webrtc-transport.ts';
import { MediaWorker } from '../../media-worker/src/worker.ts';
import streamEcho from '../fixtures/handlers/stream-echo.ts';
import { RtcTestClient } from '../support/rtc-client.ts';
import { e2eWorkerConfig } from '../support/worker-config.ts';

/**
 * Opens and closes 20 sessions on in-process media workers, ended every way a session can end,
 * and checks each is reported with its reason and that nothing it used (UDP sockets, timers,
 * TCP sockets) outlives it.
 */

const edge = inject('edgeUrl');
/** What the workers logged (claim retries, session errors): shown when a session's end is wrong. */
const log: string[] = [];
// The stream-echo handler needs no VAD; a session that asked for one would fail loudly.
const noVad: VadFactory = () => {
  throw new Error('the stream handler needs no VAD');
};

/** Active libuv resources by type (UDPWrap, TCPSocketWrap, Timeout, ...), and listeners on `process`. */
function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  counts['process listeners'] = process.eventNames().reduce((n, e) => n + process.listenerCount(e), 0);
  return counts;
}

/** Types with more resources now than in `baseline`, with both counts (empty: none). */
function excess(baseline: Record<string, number>): Record<string, string> {
  const now = resources();
  const over: Record<string, string> = {};
  for (const [type, n] of Object.entries(now)) if (n > (baseline[type] ?? 0)) over[type] = `${baseline[type] ?? 0} -> ${n}`;
  return over;
}

/** Waits (werift closes sockets asynchronously, idle HTTP keep-alive sockets time out) until nothing exceeds the baseline. */
async function expectBackTo(baseline: Record<string, number>, what: string): Promise<void> {
  const deadline = Date.now() + 8000;
  while (Object.keys(excess(baseline)).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(excess(baseline), `resources left after ${what}`).toEqual({});
  // The shared socket forgets every ended call (its fragments, addresses and transactions).
  expect(mux.sessions, `calls still routed on the shared UDP socket after ${what}`).toBe(0);
}

function startWorker(metrics: Metrics, env: Record<string, string>): MediaWorker {
  const config = e2eWorkerConfig(env);
  const worker = new MediaWorker(config, streamEcho, noVad, metrics, (m) => log.push(m));
  worker.start();
  return worker;
}

const status = async (id: string): Promise<Record<string, unknown>> => (await fetch(`${edge}/v1/sessions/${id}/status`)).json();
const idOf = (client: RtcTestClient) => client.sessionUrl.split('/').pop()!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitEnded(id: string, timeoutMs: number): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const st = await status(id);
    if (st['state'] === 'ended' || Date.now() > deadline) return st;
    await sleep(100);
  }
}

/** A call that works (its audio is echoed back), then ends as `how` says. Returns the session id. */
async function call(how: 'delete' | 'peer_close' | 'handler_close' | 'time_limit'): Promise<string> {
  const client = await RtcTestClient.connect(edge);
  const id = idOf(client);
  try {
    await client.silence(200);
    await expect.poll(() => client.received.length, { timeout: 3000 }).toBeGreaterThan(0);
    if (how === 'delete') {
      expect(await client.hangup()).toBe(200);
    } else if (how === 'peer_close') {
      // The tab goes away without a DELETE: only the peer connection closes.
      await client.pc.close();
    } else if (how === 'handler_close') {
      await expect.poll(() => client.channel.readyState, { timeout: 3000 }).toBe('open');
      client.channel.send(JSON.stringify({ type: 'bye' }));
      // The handler looks at its inputs once per input frame.
      await client.silence(100);
    }
    if (how === 'handler_close' || how === 'time_limit') {
      // The worker ends it: its peer connection closes, which closes the client's data channel.
      await expect.poll(() => client.channel.readyState, { timeout: 5000 }).toBe('closed');
    }
  } finally {
    await client.pc.close();
  }
  return id;
}

/**
 * A client that offers, gets the answer and goes away before connecting: the worker's ICE checks
 * get no response. werift's ICE agent then stays 'checking' for ever; the worker gives the peer
 * CONNECT_TIMEOUT_MS (10 s) and ends the call with 'connect_timeout'.
 */
async function iceFailure(): Promise<string> {
  const pc = new RTCPeerConnection({
    codecs: { audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111 })] },
    iceServers: [],
    bundlePolicy: 'max-bundle',
    iceUseIpv6: false,
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
    iceAdditionalHostAddresses: ['127.0.0.1'],
  });
  try {
    pc.addTransceiver('audio', { direction: 'sendrecv' });
    pc.createDataChannel('events');
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((r) => {
      if (pc.iceGatheringState === 'complete') r();
      else pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && r());
    });
    const res = await fetch(`${edge}/v1/sessions`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription!.sdp });
    expect(res.status).toBe(201);
    await res.text();
    return res.headers.get('Location')!.split('/').pop()!;
  } finally {
    await pc.close();
  }
}

/** Runs `jobs` at most `width` at a time; resolves with their results in order, or rejects (after all ran) with the first failure. */
async function pool<T>(width: number, jobs: (() => Promise<T>)[]): Promise<T[]> {
  const results = new Array<PromiseSettledResult<T>>(jobs.length);
  let next = 0;
  const lane = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!().then(
        (value) => ({ status: 'fulfilled', value }) as const,
        (reason: unknown) => ({ status: 'rejected', reason }) as const,
      );
    }
  };
  await Promise.all(Array.from({ length: width }, lane));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

const endedBy = (metrics: Metrics) =>
  metrics.sessionsEnded.get().then((m) => Object.fromEntries(m.values.map((v) => [String(v.labels['reason']), v.value])));

let metricsA: Metrics;
let metricsB: Metrics;
let before: Record<string, number>;
let mux: UdpMux;
let workerA: MediaWorker | undefined;
let workerB: MediaWorker | undefined;

beforeAll(async () => {
  // prom-client's default metrics set up process-wide monitors: made before the baseline.
  metricsA = createMetrics();
  metricsB = createMetrics();
  // The process's one WebRTC socket (RTC_UDP_PORT=0 on the e2e stack), bound at start as main.ts does.
  mux = await UdpMux.shared(0, '127.0.0.1');
  // Let any earlier file's keep-alive sockets time out before counting.
  await sleep(200);
  before = resources();
});

afterAll(async () => {
  await workerA?.drain(1000);
  await workerB?.drain(1000);
});

describe('sessions ended every way leave nothing behind (in-process worker, werift clients)', () => {
  it('ends 16 sessions by DELETE, peer close, ICE failure and handler close, reports each reason, and frees their resources', async () => {
    // A closed peer connection may come back (a resume) for RESUME_GRACE_MS: short here.
    workerA = startWorker(metricsA, { MAX_SESSIONS: '6', WORKER_ID: 'w-leaks-a', RESUME_GRACE_MS: '500' });
    await sleep(500);
    const running = resources();
    const kinds = [
      ...Array<'delete'>(7).fill('delete'),
      ...Array<'peer_close'>(4).fill('peer_close'),
      ...Array<'handler_close'>(3).fill('handler_close'),
    ];
    // ICE failures end after CONNECT_TIMEOUT_MS: started first, they run alongside the rest.
    const failing = Promise.all([iceFailure(), iceFailure()]);
    const ids = await pool(3, kinds.map((k) => () => call(k)));
    const failedIds = await failing;

    const expected = {
      delete: { state: 'ended', reason: 'client_hangup', workerId: 'w-leaks-a' },
      // The status detail is the worker's end reason, then its own detail if it gave one.
      peer_close: { state: 'ended', reason: 'worker_ended', detail: expect.stringMatching(/^peer_closed\b/), workerId: 'w-leaks-a' },
      handler_close: { state: 'ended', reason: 'worker_ended', detail: expect.stringMatching(/^handler_closed\b/), workerId: 'w-leaks-a' },
    };
    for (const [i, id] of ids.entries()) expect(await waitEnded(id, 5000), `${kinds[i]} session ${id}; worker log: ${log.join(' | ')}`).toMatchObject(expected[kinds[i]!]);
    for (const id of failedIds) {
      const st = await waitEnded(id, CONNECT_TIMEOUT_MS + 5000);
      expect(st, `ICE failure session ${id}; worker log: ${log.join(' | ')}`).toMatchObject({ state: 'ended', reason: 'worker_ended', detail: expect.stringMatching(/^connect_timeout\b/), workerId: 'w-leaks-a' });
      expect(Number(st['endedAt']) - Number(st['claimedAt'])).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS - 100);
    }
    await expect.poll(() => workerA!.activeSessions, { timeout: 5000 }).toBe(0);
    expect(await endedBy(metricsA)).toEqual({ client_hangup: 7, peer_closed: 4, handler_closed: 3, connect_timeout: 2 });
    // The worker runs on, idle: back to what it used before the sessions.
    await expectBackTo(running, '16 sessions on a running worker');
    await workerA.drain(1000);
    workerA = undefined;
  }, 40_000);

  it('ends 4 sessions at TIME_LIMIT_MS, and after both workers drained the process is back to its baseline', async () => {
    await workerA?.drain(1000);
    workerA = undefined;
    workerB = startWorker(metricsB, { MAX_SESSIONS: '4', WORKER_ID: 'w-leaks-b', TIME_LIMIT_MS: '1500' });
    const started = performance.now();
    const ids = await Promise.all([1, 2, 3, 4].map(() => call('time_limit')));
    for (const id of ids) {
      const st = await waitEnded(id, 5000);
      expect(st).toMatchObject({ state: 'ended', reason: 'worker_ended', detail: expect.stringMatching(/^time_limit\b/), workerId: 'w-leaks-b' });
      // The limit runs from the answer, which comes after the claim.
      expect(Number(st['endedAt']) - Number(st['claimedAt'])).toBeGreaterThanOrEqual(1500);
    }
    expect(performance.now() - started).toBeGreaterThan(1500);
    await expect.poll(() => workerB!.activeSessions, { timeout: 5000 }).toBe(0);
    expect(await endedBy(metricsB)).toEqual({ time_limit: 4 });
    await workerB.drain(1000);
    workerB = undefined;
    await expectBackTo(before, '20 sessions and two drained workers');
  }, 20_000);
});
