import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from '../support/inject.ts';
import { SessionStatus } from '@switchboard/protocol';
import { concatFrames, readWav, silence, writeWav } from '../../media-worker/src/audio/pcm.ts';
import type { LocalWorker } from '../../scripts/stack/media-worker.ts';
import { launchChromium } from '../support/chromium.ts';
import { killE2eWorkers, startE2eWorker } from '../support/worker-config.ts';

/**
 * The browser SDK (`@switchboard/client`) in headless Chromium, from a web application on its own
 * origin (every edge call is cross-origin, as in production), through the real stack: contract
 * errors, trickle ICE, typed events, send, levels, mute, hang-up, and the React hook.
 * Resuming after a worker kill is browser-resume.test.ts (the demo page is built on the SDK).
 */

const edge = inject('edgeUrl');
const speech = readWav(readFileSync(new URL('../fixtures/audio/speech-48k.wav', import.meta.url)));
/** One loop of the fake microphone (ms): 1 s of silence, the phrase (2.4 s), 2.5 s of silence. */
const LOOP_MS = 1000 + 2433 + 2500;

let browser: Browser;
let app: Server;
let appUrl: string;
let dir: string;
const workers: LocalWorker[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sb-browser-sdk-'));
  writeFileSync(join(dir, 'mic.wav'), writeWav(concatFrames([silence(48000, 1, 1000), speech, silence(48000, 1, 2500)])));
  const bundle = await build({
    entryPoints: [new URL('../support/sdk-app.ts', import.meta.url).pathname],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const js = bundle.outputFiles[0]!.text;
  const html = `<!doctype html><meta charset="utf-8"><title>app</title><div id="root"></div><script>window.EDGE_URL=${JSON.stringify(edge)}</script><script type="module" src="/app.js"></script>`;
  app = createServer((req, res) => {
    const [type, body] = req.url === '/app.js' ? ['text/javascript', js] : ['text/html', html];
    res.writeHead(200, { 'Content-Type': type }).end(body);
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  // localhost is another origin than the edge's 127.0.0.1 (CORS applies), and still loopback.
  appUrl = `http://localhost:${(app.address() as AddressInfo).port}/`;
  browser = await launchChromium({ micWav: join(dir, 'mic.wav'), extraArgs: ['--allow-loopback-in-peer-connection'] });
});

afterAll(async () => {
  await browser?.close();
  await killE2eWorkers(workers);
  await new Promise((r) => app?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

async function openApp(): Promise<{ page: Page; errors: string[]; requests: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('response', (r) => {
    const req = r.request();
    if (req.url().startsWith(edge)) requests.push(`${req.method()} ${new URL(req.url()).pathname} ${r.status()}`);
  });
  await page.goto(appUrl);
  await page.waitForFunction(() => 'sdk' in window);
  return { page, errors, requests };
}

async function status(sessionUrl: string): Promise<SessionStatus> {
  return SessionStatus.parse(await (await fetch(`${sessionUrl}/status`)).json());
}

describe('the browser SDK in headless Chromium, from another origin, through the real stack', () => {
  it("rejects with the edge's contract error (no worker: 503 no_worker, Retry-After) and with `network` for an unreachable edge", async () => {
    const { page, errors } = await openApp();
    const refused = await page.evaluate(async (url) => {
      try {
        await window.sdk.connect({ url });
        return null;
      } catch (e) {
        const err = e as InstanceType<typeof window.sdk.SwitchboardError>;
        return { isSdkError: err instanceof window.sdk.SwitchboardError, code: err.code, status: err.status, retryAfterMs: err.retryAfterMs, message: err.message };
      }
    }, edge);
    expect(refused).toMatchObject({ isSdkError: true, code: 'no_worker', status: 503 });
    expect(refused!.retryAfterMs).toBeGreaterThan(0);
    const unreachable = await page.evaluate(() => window.sdk.connect({ url: 'http://127.0.0.1:9/' }).then(() => null, (e: { code: string }) => e.code));
    expect(unreachable).toBe('network');
    expect(errors).toEqual([]);
    await page.close();
  }, 30_000);

  it('connects with trickled candidates, delivers typed events, sends, measures levels, mutes and hangs up', async () => {
    workers.push(await startE2eWorker({ HANDLER: new URL('../support/sdk-handler.ts', import.meta.url).pathname, MAX_SESSIONS: '4' }));
    const { page, errors, requests } = await openApp();
    await page.evaluate(async (url) => {
      const rec = { events: [] as { type: string; at: number }[], metrics: [] as unknown[], transcripts: [] as unknown[], states: [] as string[], iterated: [] as string[], levels: [] as { input: number; output: number }[] };
      (window as any).rec = rec;
      const call = await window.sdk.connect({
        url,
        on: {
          event: (e) => rec.events.push({ ...e, at: performance.now() }),
          metrics: (m) => rec.metrics.push(m),
          transcript: (t) => rec.transcripts.push(t),
          state: (s) => rec.states.push(s),
        },
      });
      (window as any).call = call;
      void (async () => {
        for await (const e of call.events()) if (rec.iterated.push(e.type) >= 3) break;
      })();
      const probe = setInterval(() => (call.state === 'connected' ? rec.levels.push(call.levels()) : clearInterval(probe)), 50);
    }, edge);
    expect(await page.evaluate(() => (window as any).call.state)).toBe('connected');
    const sessionUrl = await page.evaluate(() => (window as any).call.sessionUrl as string);
    expect(sessionUrl).toMatch(new RegExp(`^${edge}/v1/sessions/\\S+$`));
    // The worker reports `live` to the edge just after the media connects.
    await expect.poll(async () => (await status(sessionUrl)).state, { timeout: 5000 }).toBe('live');

    // A turn: the phrase is echoed, with typed pipeline events and the handler's transcripts.
    await page.waitForFunction(() => (window as any).rec.metrics.length >= 1, null, { timeout: 20_000 });
    const rec = await page.evaluate(() => (window as any).rec);
    const types = rec.events.map((e: { type: string }) => e.type);
    expect(types).toEqual(expect.arrayContaining(['vad.start', 'vad.end', 'reply.start', 'reply.end', 'metrics', 'transcript']));
    expect(types).not.toContain('pong');
    expect(rec.metrics[0]).toMatchObject({ type: 'metrics', turn: expect.any(Number), endOfSpeechToFirstFrameMs: expect.any(Number) });
    // The greeting's event was sent before the channel opened, and still arrived, first.
    expect(rec.transcripts[0]).toMatchObject({ type: 'transcript', role: 'assistant', text: 'hello from the handler' });
    expect(rec.transcripts[1]).toMatchObject({ type: 'transcript', role: 'user', text: expect.stringMatching(/^you spoke for \d+ ms$/) });
    expect(rec.iterated).toHaveLength(3);
    expect(rec.states).toEqual(['connected']);
    // Levels: the microphone while the phrase played, the reply while it was echoed.
    const peak = (k: 'input' | 'output') => Math.max(...rec.levels.map((l: Record<string, number>) => l[k]!));
    expect(peak('input')).toBeGreaterThan(0.02);
    expect(peak('output')).toBeGreaterThan(0.02);

    // Trickle ICE: the offer went out, then candidates in PATCHes the edge accepted.
    expect(requests).toContain('POST /v1/sessions 201');
    expect(requests.filter((r) => r.startsWith('PATCH /v1/sessions/'))).not.toHaveLength(0);
    expect(requests.filter((r) => r.startsWith('PATCH')).every((r) => r.endsWith(' 204'))).toBe(true);

    // send(): the handler gets the event and answers with its own.
    expect(await page.evaluate(() => (window as any).call.send({ type: 'input', text: 'hello' }))).toBe(true);
    await page.waitForFunction(() => (window as any).rec.events.some((e: any) => e.type === 'handler.echo' && e.got?.text === 'hello'), null, { timeout: 5000 });

    // Mute: for more than a whole loop of the microphone no speech reaches the worker; unmuted, it does again.
    await page.evaluate(() => (window as any).call.mute());
    expect(await page.evaluate(() => (window as any).call.muted)).toBe(true);
    const mutedAt = await page.evaluate(() => performance.now());
    await page.waitForTimeout(LOOP_MS + 1500);
    const speechWhileMuted = await page.evaluate((t) => (window as any).rec.events.filter((e: any) => e.type === 'vad.start' && e.at > t + 300).length, mutedAt);
    expect(speechWhileMuted).toBe(0);
    const unmutedAt = await page.evaluate(() => {
      (window as any).call.mute(false);
      return performance.now();
    });
    await page.waitForFunction((t) => (window as any).rec.events.some((e: any) => e.type === 'vad.start' && e.at > t), unmutedAt, { timeout: LOOP_MS + 3000 });

    // Hang-up: the session ends on the edge, the call reports 'ended' and its iterators end.
    const ended = await page.evaluate(async () => {
      const call = (window as any).call;
      await call.hangup();
      return { state: call.state, ended: await call.ended, pc: call.peerConnection, mic: call.microphone?.getAudioTracks()[0]?.readyState };
    });
    expect(ended).toEqual({ state: 'ended', ended: 'ended', pc: null, mic: 'ended' });
    expect((await status(sessionUrl)).state).toBe('ended');
    expect(requests).toContain(`DELETE ${new URL(sessionUrl).pathname} 200`);
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);

  it('useCall() drives a React component: state, transcript, metrics, mute and hang-up', async () => {
    const { page, errors } = await openApp();
    const text = (id: string) => page.locator(`#${id}`).textContent();
    expect(await text('state')).toBe('idle');
    await page.click('#connect');
    await page.waitForFunction(() => document.getElementById('state')?.textContent === 'connected', null, { timeout: 15_000 });
    const sessionId = await text('session');
    expect(sessionId).toMatch(/\S+/);
    await page.waitForFunction(() => document.querySelectorAll('#transcript li.assistant').length >= 1, null, { timeout: 20_000 });
    await page.waitForFunction(() => Number(document.getElementById('turns')?.textContent) >= 1, null, { timeout: 10_000 });
    expect(await page.locator('#transcript li.user').first().textContent()).toMatch(/^you spoke for \d+ ms$/);
    expect(await page.locator('#transcript li.assistant').first().textContent()).toBe('hello from the handler');
    await page.click('#mute');
    expect(await text('muted')).toBe('true');
    await page.click('#hangup');
    await page.waitForFunction(() => document.getElementById('state')?.textContent === 'ended', null, { timeout: 5000 });
    expect((await status(`${edge}/v1/sessions/${sessionId}`)).state).toBe('ended');
    expect(await text('error')).toBe('');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
