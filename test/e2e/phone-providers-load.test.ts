import { createHash, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from '../support/inject.ts';
import { BATCH_FRAMES } from '../../media-worker/src/transport/socket/socket-sink.ts';
import { simulateCall } from '../../scripts/phone/caller.ts';
import { startMediaWorker, type LocalWorker } from '../../scripts/stack/media-worker.ts';
import { bursts, longestSilenceMs, onsets, rmsBetween, tone } from '../support/phone-audio.ts';
import { killE2eWorkers } from '../support/worker-config.ts';

/**
 * Telnyx and Plivo calls on worker processes (`node media-worker/src/main.ts`, the stream echo
 * handler), as phone-resilience.test.ts does for Twilio: a call of each provider survives its
 * worker being killed (another worker takes it over through the same provider stream, held by
 * the edge), and 20 concurrent calls (10 of each) keep a steady echo delay with their
 * acknowledgements. The two providers share each test: their calls run side by side.
 */

const PROVIDERS = ['telnyx', 'plivo'] as const;
type Provider = (typeof PROVIDERS)[number];
const edge = inject('edgeUrl');
const STREAM_ECHO = fileURLToPath(new URL('../fixtures/handlers/stream-echo.ts', import.meta.url));
const status = async (id: string): Promise<Record<string, unknown>> => (await fetch(`${edge}/v1/sessions/${id}/status`)).json();

const running: LocalWorker[] = [];
afterAll(async () => {
  await killE2eWorkers(running);
});
async function worker(id: string, extra: Record<string, string> = {}): Promise<LocalWorker> {
  const env = { PUBLIC_BASE_URL: edge, SQS_QUEUE_URL: inject('sqsQueueUrl'), SQS_ENDPOINT: inject('sqsEndpoint'), SQS_WAIT_S: '1', HANDLER: STREAM_ECHO, WORKER_ID: id, ...extra };
  const w = await startMediaWorker({ env, quiet: true });
  running.push(w);
  return w;
}

/** A provider call id and the session id the edge derives from it (SHA-256 of the call id). */
function callIds(provider: Provider): { callSid: string; sessionId: string } {
  const callSid = provider === 'telnyx' ? `v3:${randomUUID()}` : randomUUID();
  return { callSid, sessionId: `c_${provider === 'telnyx' ? 'tx' : 'pv'}_${createHash('sha256').update(callSid).digest('hex').slice(0, 32)}` };
}

describe('Telnyx and Plivo calls on worker processes', { timeout: 90_000 }, () => {
  it('a call of each survives its worker being killed: another worker takes both over, each caller hears a gap of at most 2 s', async () => {
    const victim = await worker('w-tp-a');
    const audio = tone(9000, 440, 8000);
    let killedAt = -1;
    const calls = PROVIDERS.map((provider) => {
      const ids = callIds(provider);
      return { provider, ...ids, done: simulateCall({ baseUrl: edge, provider, callSid: ids.callSid, audio: { samples: audio, sampleRate: 8000 }, tailMs: 500 }) };
    });
    const killer = (async () => {
      for (const c of calls) await expect.poll(async () => (await status(c.sessionId))['state'], { timeout: 10_000, interval: 50 }).toBe('live');
      // Both calls live on the first worker; the second comes up to take them over.
      await worker('w-tp-b');
      await new Promise((r) => setTimeout(r, 1000));
      killedAt = performance.now();
      await victim.stop('SIGKILL');
    })();
    const results = await Promise.all(calls.map((c) => c.done));
    await killer;
    for (const [i, r] of results.entries()) {
      const { provider, sessionId } = calls[i]!;
      const rate = r.heardSampleRate;
      expect(r.connected).toBe(true);
      expect(r.closedBy).toBe('caller');
      const killedAtStreamMs = killedAt - r.startedAt;
      const gap = longestSilenceMs(r.heard, rate, 1000, (r.heard.length / rate) * 1000 - 600);
      expect(gap, provider).toBeLessThanOrEqual(2000);
      expect(rmsBetween(r.heard, rate, killedAtStreamMs + 2000, 8800), provider).toBeGreaterThan(0.1);
      const st = await status(sessionId);
      expect(st['workerId']).toBe('w-tp-b');
      expect(st).toMatchObject({ state: 'ended', reason: 'phone_hangup' });
      console.log(`${provider}: worker killed at stream time ${Math.round(killedAtStreamMs)} ms; the caller heard a gap of ${gap} ms`);
    }
    await killE2eWorkers(running.splice(0));
  });

  it('20 concurrent calls (10 of each): every call echoes each burst with a steady delay, acknowledgements answered', async () => {
    await worker('w-tp-load', { MAX_SESSIONS: '24' });
    const at = [300, 1000, 1600, 2500, 3100, 3900, 4400, 5300, 5900, 6800, 7400];
    const audio = bursts(at, 200, 8000, 8000);
    const providerOf = (i: number): Provider => PROVIDERS[i % 2]!;
    const calls = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        await new Promise((r) => setTimeout(r, i * 50));
        return simulateCall({ baseUrl: edge, provider: providerOf(i), audio: { samples: audio, sampleRate: 8000 }, tailMs: 800 });
      }),
    );
    const delays = calls.map((r) => {
      const heard = onsets(r.heard, r.heardSampleRate);
      return at.map((t) => {
        const h = heard.find((x) => x >= t && x < t + 500);
        return h === undefined ? NaN : h - t;
      });
    });
    for (const [i, r] of calls.entries()) {
      const d = delays[i]!;
      const why = `${providerOf(i)} delays ${d.join(',')}`;
      expect(r.connected).toBe(true);
      expect(r.protocolErrors).toEqual([]);
      expect(d.every(Number.isFinite), why).toBe(true);
      // Steady once every call is live (the last 5 bursts): no drift, no growing buffer.
      const late = d.slice(-5);
      expect(Math.max(...late) - Math.min(...late), why).toBeLessThanOrEqual(120);
      expect(r.marksReceived).toBeGreaterThan(400 / BATCH_FRAMES); // a mark per batch of frames
      expect(r.marksEchoed).toBeGreaterThanOrEqual(r.marksReceived - (Math.ceil(Math.max(...d) / 20) + 2));
    }
    for (const provider of PROVIDERS) {
      const all = delays.filter((_, i) => providerOf(i) === provider).flat().sort((x, y) => x - y);
      console.log(`${provider}, 10 of 20 calls: echo delay p50 ${all[Math.floor(all.length / 2)]} ms, p99 ${all[Math.floor(all.length * 0.99)]} ms`);
    }
    await killE2eWorkers(running.splice(0));
  });
});
