import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from '../support/inject.ts';
import { readWav } from '../../media-worker/src/audio/pcm.ts';
import { loadHandler } from '../../media-worker/src/handlers/load.ts';
import { createMetrics } from '../../media-worker/src/http/metrics.ts';
import { startHttp } from '../../media-worker/src/http/server.ts';
import { createVadFactory } from '../../media-worker/src/vad/factory.ts';
import { MediaWorker } from '../../media-worker/src/worker.ts';
import { startMediaWorker, type LocalWorker } from '../../scripts/stack/media-worker.ts';
import { chromeOffer } from '../fixtures/sdp.ts';
import { RtcTestClient } from '../support/rtc-client.ts';
import { e2eWorkerConfig } from '../support/worker-config.ts';

/**
 * The media worker's life: capacity (MAX_SESSIONS) and /metrics on an in-process worker, and the
 * SIGTERM drain of a worker process (`node media-worker/src/main.ts`).
 */

const edge = inject('edgeUrl');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const status = async (id: string): Promise<Record<string, unknown>> => (await fetch(`${edge}/v1/sessions/${id}/status`)).json();
const idOf = (client: RtcTestClient) => client.sessionUrl.split('/').pop()!;
const STREAM_ECHO = fileURLToPath(new URL('../fixtures/handlers/stream-echo.ts', import.meta.url));

/** One sample of Prometheus text: `name{labels} value` (labels as printed, e.g. `outcome="claimed"`). */
function sample(text: string, name: string, labels = ''): number | undefined {
  const prefix = labels ? `${name}{${labels}} ` : `${name} `;
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(prefix.length));
}

const whipPost = (sdp: string) => fetch(`${edge}/v1/sessions`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: sdp });

/** chromeOffer() with G.711 only: a valid offer the edge queues, which the worker cannot answer (no Opus). */
const pcmuOnlyOffer = () =>
  chromeOffer()
    .replace('m=audio 9 UDP/TLS/RTP/SAVPF 111 0', 'm=audio 9 UDP/TLS/RTP/SAVPF 0')
    .replace('a=rtpmap:111 opus/48000/2\r\n', '')
    .replace('a=fmtp:111 minptime=10;useinbandfec=1\r\n', '');

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe('capacity and /metrics (in-process worker, MAX_SESSIONS=1)', () => {
  it('never holds two sessions: a second call waits, gets 503 no_worker, its job is dropped unclaimed; the freed slot serves the next call; /metrics follows', async () => {
    const metrics = createMetrics();
    const config = e2eWorkerConfig({ MAX_SESSIONS: '1', WORKER_ID: 'w-capacity' });
    const worker = new MediaWorker(config, await loadHandler('echo'), await createVadFactory(), metrics, () => {});
    const http: Server = await startHttp({ host: '127.0.0.1', port: 0, metrics, ready: () => worker.ready });
    cleanups.push(() => new Promise((r) => http.close(r)), () => worker.drain(1000));
    const addr = http.address();
    const metricsUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/metrics`;
    const scrape = async () => {
      const res = await fetch(metricsUrl);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      return res.text();
    };
    const sqs = new SQSClient({ endpoint: inject('sqsEndpoint'), region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    cleanups.push(async () => sqs.destroy());
    const queued = async () => {
      const { Attributes: a = {} } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: inject('sqsQueueUrl'), AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      );
      return Number(a['ApproximateNumberOfMessages']) + Number(a['ApproximateNumberOfMessagesNotVisible']);
    };
    worker.start();
    // The most sessions the worker ever holds, sampled throughout.
    let most = 0;
    const sampler = setInterval(() => (most = Math.max(most, worker.activeSessions)), 5);
    cleanups.push(async () => clearInterval(sampler));

    let text = await scrape();
    for (const name of ['switchboard_claim_latency_seconds', 'switchboard_turns_total', 'switchboard_frames_late_total', 'switchboard_output_ticks_total', 'switchboard_send_lateness_seconds', 'switchboard_errors_total']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(sample(text, 'switchboard_active_sessions')).toBe(0);
    expect(sample(text, 'switchboard_capacity_sessions')).toBe(1);
    expect(sample(text, 'switchboard_claims_total', 'outcome="claimed"')).toBeUndefined();
    expect(sample(text, 'switchboard_claim_latency_seconds_count')).toBe(0);
    expect(sample(text, 'switchboard_turns_total')).toBe(0);

    // Call A takes the only slot.
    const a = await RtcTestClient.connect(edge);
    text = await scrape();
    expect(sample(text, 'switchboard_active_sessions')).toBe(1);
    expect(sample(text, 'switchboard_claims_total', 'outcome="claimed"')).toBe(1);
    expect(sample(text, 'switchboard_claim_latency_seconds_count')).toBe(1);

    // Call B while A is live (and speaks a turn): nobody claims it within CLAIM_TIMEOUT_MS (3 s).
    const t0 = performance.now();
    const b = whipPost(chromeOffer()).then(async (r) => ({ status: r.status, body: (await r.json()) as { error: { code: string } }, ms: performance.now() - t0 }));
    const utterance = readWav(readFileSync(new URL('../fixtures/audio/short-utterance.wav', import.meta.url)));
    await a.play(utterance);
    await a.silence(800);
    await a.waitForEvents('metrics', 1, 10_000);
    const refused = await b;
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('no_worker');
    expect(refused.ms).toBeGreaterThan(2900);
    expect(worker.activeSessions).toBe(1);
    expect((await status(idOf(a))).state).toBe('live');
    text = await scrape();
    expect(sample(text, 'switchboard_turns_total')).toBe(1);
    expect(sample(text, 'switchboard_active_sessions')).toBe(1);

    // A hangs up: the worker is free again, takes B's expired job off the queue and drops it
    // without claiming it (no claim attempt of any outcome).
    expect(await a.hangup()).toBe(200);
    await expect.poll(async () => sample(await scrape(), 'switchboard_active_sessions'), { timeout: 5000 }).toBe(0);
    await expect.poll(queued, { timeout: 8000 }).toBe(0);
    text = await scrape();
    expect(text.split('\n').filter((l) => l.startsWith('switchboard_claims_total{'))).toEqual(['switchboard_claims_total{outcome="claimed"} 1']);
    expect(sample(text, 'switchboard_claim_latency_seconds_count')).toBe(1);
    // The client's DELETE at the edge.
    expect(sample(text, 'switchboard_sessions_ended_total', 'reason="client_hangup"')).toBe(1);

    // Call C is served by the freed slot.
    const c = await RtcTestClient.connect(edge);
    expect(await status(idOf(c))).toMatchObject({ state: 'live', workerId: 'w-capacity' });
    text = await scrape();
    expect(sample(text, 'switchboard_active_sessions')).toBe(1);
    expect(sample(text, 'switchboard_claims_total', 'outcome="claimed"')).toBe(2);
    expect(await c.hangup()).toBe(200);
    await expect.poll(async () => sample(await scrape(), 'switchboard_active_sessions'), { timeout: 5000 }).toBe(0);

    // A call the worker cannot answer counts as an error.
    expect(sample(await scrape(), 'switchboard_errors_total', 'kind="session"')).toBeUndefined();
    const failed = await whipPost(pcmuOnlyOffer());
    expect(failed.status).toBe(502);
    expect(await failed.text()).toContain('answer_failed: the offer has no Opus audio');
    await expect.poll(async () => sample(await scrape(), 'switchboard_active_sessions'), { timeout: 5000 }).toBe(0);
    text = await scrape();
    expect(sample(text, 'switchboard_errors_total', 'kind="session"')).toBe(1);
    expect(sample(text, 'switchboard_claims_total', 'outcome="claimed"')).toBe(3);
    expect(sample(text, 'switchboard_frames_late_total')).toBeGreaterThanOrEqual(0);
    // The answered turns' reply packets, each with its send lateness on the shared clock.
    expect(sample(text, 'switchboard_send_lateness_seconds_count')).toBeGreaterThan(0);
    expect(sample(text, 'switchboard_send_lateness_seconds_bucket', 'le="+Inf"')).toBe(sample(text, 'switchboard_send_lateness_seconds_count'));

    clearInterval(sampler);
    expect(most).toBe(1);
    // Off the queue before the next tests' worker processes poll it.
    await worker.drain(1000);
    expect(sample(await scrape(), 'switchboard_active_sessions')).toBe(0);
  }, 40_000);
});

describe('SIGTERM drain of a worker process', () => {
  const env = (drainMs: number): Record<string, string> => ({
    PUBLIC_BASE_URL: edge,
    SQS_QUEUE_URL: inject('sqsQueueUrl'),
    SQS_ENDPOINT: inject('sqsEndpoint'),
    SQS_WAIT_S: '1',
    HANDLER: STREAM_ECHO,
    MAX_SESSIONS: '2',
    DRAIN_TIMEOUT_MS: String(drainMs),
  });
  const start = async (drainMs: number): Promise<LocalWorker> => {
    const w = await startMediaWorker({ quiet: true, env: env(drainMs) });
    cleanups.push(() => w.stop('SIGKILL'));
    return w;
  };
  const get = async (url: string) => (await fetch(url)).status;

  /** Sends 20 ms packets (echoed back) until stopped. */
  function talk(client: RtcTestClient): { stop(): Promise<void> } {
    const ctl = new AbortController();
    const tone = { samples: new Int16Array(48000 * 10).map((_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 48000))), sampleRate: 48000, channels: 1 };
    const playing = client.play(tone, ctl.signal);
    return {
      stop: async () => {
        ctl.abort();
        await playing;
      },
    };
  }

  it('keeps a live call working until DRAIN_TIMEOUT_MS, not ready meanwhile, then ends it (drain_timeout) and exits 0', async () => {
    const worker = await start(3000);
    const client = await RtcTestClient.connect(edge);
    cleanups.push(() => client.pc.close());
    const id = idOf(client);
    const talking = talk(client);
    await expect.poll(() => client.received.length, { timeout: 3000 }).toBeGreaterThan(10);

    const t0 = performance.now();
    let exitedAt = 0;
    const exited = worker.stop('SIGTERM').then((code) => ((exitedAt = performance.now()), code));
    await expect.poll(() => get(`${worker.url}/readyz`), { timeout: 1000, interval: 20 }).toBe(503);
    expect(await get(`${worker.url}/healthz`)).toBe(200);
    const metrics = await (await fetch(`${worker.url}/metrics`)).text();
    expect(sample(metrics, 'switchboard_active_sessions')).toBe(1);

    // The call goes on: audio is still echoed well into the drain.
    await sleep(1000);
    const heardAt = client.received.length;
    await sleep(1000);
    expect(performance.now() - t0).toBeLessThan(2900);
    expect(client.received.length - heardAt).toBeGreaterThan(25);
    expect((await status(id)).state).toBe('live');
    expect(await get(`${worker.url}/readyz`)).toBe(503);
    expect(await get(`${worker.url}/healthz`)).toBe(200);

    expect(await exited).toBe(0);
    await talking.stop();
    expect(exitedAt - t0).toBeGreaterThan(2900);
    expect(exitedAt - t0).toBeLessThan(6000);
    expect(await status(id)).toMatchObject({ state: 'ended', reason: 'worker_ended', detail: 'drain_timeout' });
    // The worker closed the peer connection before exiting: the client was told (SCTP ABORT).
    await expect.poll(() => client.channel.readyState, { timeout: 1000 }).toBe('closed');
    expect(worker.output()).toContain('SIGTERM: draining 1 session(s), up to 3000 ms');
  }, 20_000);

  it('exits 0 promptly when the last call hangs up during the drain', async () => {
    const worker = await start(20_000);
    const client = await RtcTestClient.connect(edge);
    cleanups.push(() => client.pc.close());
    const id = idOf(client);
    await client.silence(200);
    let exitedAt = 0;
    const exited = worker.stop('SIGTERM').then((code) => ((exitedAt = performance.now()), code));
    await expect.poll(() => get(`${worker.url}/readyz`), { timeout: 1000, interval: 20 }).toBe(503);
    await client.silence(300);
    expect((await status(id)).state).toBe('live');

    const hungUpAt = performance.now();
    expect(await client.hangup()).toBe(200);
    expect(await exited).toBe(0);
    // Well before the 20 s limit: the session's end, then at most the 1 s long poll in flight.
    expect(exitedAt - hungUpAt).toBeLessThan(3000);
    expect(await status(id)).toMatchObject({ state: 'ended', reason: 'client_hangup' });
  }, 20_000);
});
