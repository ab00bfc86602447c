import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from '../support/inject.ts';
import { readWav } from '../../media-worker/src/audio/pcm.ts';
import { resampleOnce } from '../../media-worker/src/audio/resampler.ts';
import type { Handler } from '../../media-worker/src/handlers/types.ts';
import { createMetrics } from '../../media-worker/src/http/metrics.ts';
import type { VadFactory } from '../../media-worker/src/pipeline/session-pipeline.ts';
import { createVadFactory } from '../../media-worker/src/vad/factory.ts';
import { MediaWorker } from '../../media-worker/src/worker.ts';
import { startMediaWorker, type LocalWorker } from '../../scripts/stack/media-worker.ts';
import { bursts, longestSilenceMs, onsets, rmsBetween, tone } from '../support/phone-audio.ts';
import { streamCall } from '../support/stream-call.ts';
import { seen, toneHandler } from '../support/tone-handler.ts';
import { e2eWorkerConfig, killE2eWorkers } from '../support/worker-config.ts';

/**
 * WebSocket audio clients (`GET /v1/stream`, docs/stream-protocol.md) end to end, with the Node
 * client of `client/` (written from that document): through the edge under workerd and its
 * Durable Object's relay to real workers. A full call with the pipeline's events and barge-in
 * (`clear`), acknowledged marks, the session's status and hang-up; a worker killed mid-call; 20
 * concurrent clients.
 */

const edge = inject('edgeUrl');
const status = async (id: string): Promise<Record<string, unknown>> => (await fetch(`${edge}/v1/sessions/${id}/status`)).json();
const STREAM_ECHO_16K = fileURLToPath(new URL('../fixtures/handlers/stream-echo-16k.ts', import.meta.url));

let vad: VadFactory;
const inProcess: MediaWorker[] = [];
const processes: LocalWorker[] = [];
beforeAll(async () => {
  vad = await createVadFactory();
});
afterAll(async () => {
  for (const w of inProcess.splice(0)) await w.drain(1000);
  await killE2eWorkers(processes);
});
function startWorker(handler: Handler, id: string): MediaWorker {
  const w = new MediaWorker(e2eWorkerConfig({ WORKER_ID: id, MAX_SESSIONS: '4' }), handler, vad, createMetrics(), () => {});
  w.start();
  inProcess.push(w);
  return w;
}
async function workerProcess(id: string, extra: Record<string, string> = {}): Promise<LocalWorker> {
  const env = { PUBLIC_BASE_URL: edge, SQS_QUEUE_URL: inject('sqsQueueUrl'), SQS_ENDPOINT: inject('sqsEndpoint'), SQS_WAIT_S: '1', HANDLER: STREAM_ECHO_16K, WORKER_ID: id, ...extra };
  const w = await startMediaWorker({ env, quiet: true });
  processes.push(w);
  return w;
}

describe('WebSocket audio clients', { timeout: 90_000 }, () => {
  it('a full call: started, the greeting, events of each turn, barge-in clears the client within 200 ms, marks echoed, hang-up ends the session', async () => {
    const worker = startWorker(toneHandler, 'w-stream-full');
    seen.interruptions.length = 0;
    const wav = readWav(readFileSync(new URL('../fixtures/audio/hello-pause-question.wav', import.meta.url)));
    const audio = wav.sampleRate === 16000 ? wav.samples : (await resampleOnce(wav, 16000)).samples;
    let sessionId = '';
    const r = await streamCall({ edge, audio, rate: 16000, tailMs: 1500, onStarted: (id) => (sessionId = id) });
    expect(r.client.errors).toEqual([]);
    expect(sessionId).toMatch(/^s_[0-9a-f]{32}$/);
    // The greeting (400 ms) from the first ticks; the reply to phrase 1 after its end (2933 ms) + 600 ms.
    const heardAt = onsets(r.heard, r.rate);
    expect(heardAt[0]).toBeLessThan(150);
    const types = r.events.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['vad.start', 'vad.end', 'reply.start', 'interrupted']));
    const replyStart = r.events.find((e) => e.type === 'reply.start' && e.event['turn'] === 1)!;
    expect(replyStart.atMs).toBeGreaterThan(2933 + 500);
    // Phrase 2 (onset 4133 ms) barges in: the client is told to drop its buffer, and hears nothing more of the reply.
    expect(r.clears).toHaveLength(1);
    const clearAt = r.clears[0]!;
    expect(clearAt).toBeGreaterThan(4133);
    expect(clearAt - 4133).toBeLessThan(200);
    expect(rmsBetween(r.heard, r.rate, replyStart.atMs + 100, clearAt - 40)).toBeGreaterThan(0.1);
    expect(rmsBetween(r.heard, r.rate, clearAt + 20, 5800)).toBe(0);
    // The handler is told what the client's mark echoes confirmed.
    await expect.poll(() => seen.interruptions.length, { timeout: 5000 }).toBe(1);
    expect(seen.interruptions[0]!.playedMs).toBeLessThanOrEqual(clearAt - replyStart.atMs + 20);
    expect(seen.interruptions[0]!.playedMs).toBeGreaterThan(clearAt - replyStart.atMs - 400);
    expect(r.client.stats.marksEchoed).toBeGreaterThan(30);
    await expect.poll(async () => status(sessionId)).toMatchObject({ kind: 'stream', state: 'ended', reason: 'client_hangup' });
    await expect.poll(() => worker.activeSessions).toBe(0);
    // Its worker stops claiming: the next tests' sessions are for worker processes.
    for (const w of inProcess.splice(0)) await w.drain(1000);
  });

  it('a plain GET is refused with 426', async () => {
    const res = await fetch(`${edge}/v1/stream`);
    expect(res.status).toBe(426);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('upgrade_required');
  });

  it('a call survives its worker being killed: another worker takes it over, the echo goes on after a gap of at most 2 s', async () => {
    const byId: Record<string, LocalWorker> = {};
    for (const id of ['w-stream-a', 'w-stream-b']) byId[id] = await workerProcess(id);
    let sessionId = '';
    let killedAt = -1;
    let victim = '';
    const done = streamCall({ edge, audio: tone(9000, 440, 16000), rate: 16000, tailMs: 500, onStarted: (id) => (sessionId = id) });
    const killer = (async () => {
      await expect.poll(() => sessionId, { timeout: 10_000, interval: 50 }).not.toBe('');
      await new Promise((r) => setTimeout(r, 3000));
      victim = String((await status(sessionId))['workerId']);
      killedAt = performance.now();
      await byId[victim]!.stop('SIGKILL');
    })();
    const r = await done;
    await killer;
    expect(r.close.code).toBe(1000);
    const gap = longestSilenceMs(r.heard, r.rate, 1000, (r.heard.length / r.rate) * 1000 - 600);
    expect(gap).toBeLessThanOrEqual(2000);
    expect(rmsBetween(r.heard, r.rate, 6000, 8800)).toBeGreaterThan(0.1);
    const st = await status(sessionId);
    expect(victim).toMatch(/^w-stream-[ab]$/);
    expect(st['workerId']).not.toBe(victim);
    console.log(`stream client: worker killed ${Math.round(performance.now() - killedAt)} ms before the end; the caller heard a gap of ${gap} ms`);
    await killE2eWorkers(processes.splice(0));
  });

  it('20 concurrent clients: every one hears each burst echoed with a steady delay', async () => {
    await workerProcess('w-stream-load', { MAX_SESSIONS: '24' });
    const at = [300, 1000, 1600, 2500, 3100, 3900, 4400, 5300, 5900, 6800, 7400];
    const audio = bursts(at, 200, 8000, 16000);
    const calls = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        await new Promise((r) => setTimeout(r, i * 50));
        return streamCall({ edge, audio, rate: 16000, tailMs: 800 });
      }),
    );
    const all: number[] = [];
    for (const r of calls) {
      expect(r.client.errors).toEqual([]);
      const heard = onsets(r.heard, r.rate);
      const delays = at.map((t) => {
        const h = heard.find((x) => x >= t && x < t + 500);
        return h === undefined ? NaN : h - t;
      });
      expect(delays.every(Number.isFinite), `delays ${delays.join(',')}`).toBe(true);
      const late = delays.slice(-5);
      expect(Math.max(...late) - Math.min(...late), `delays ${delays.join(',')}`).toBeLessThanOrEqual(120);
      all.push(...delays);
    }
    all.sort((x, y) => x - y);
    console.log(`stream clients, 20 calls: echo delay p50 ${all[Math.floor(all.length / 2)]} ms, p99 ${all[Math.floor(all.length * 0.99)]} ms`);
  });
});
