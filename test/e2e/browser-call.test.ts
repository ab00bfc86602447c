import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from '../support/inject.ts';
import { concatFrames, readWav, silence, writeWav } from '../../media-worker/src/audio/pcm.ts';
import { resampleOnce } from '../../media-worker/src/audio/resampler.ts';
import type { LocalWorker } from '../../scripts/stack/media-worker.ts';
import { startE2eWorker } from '../support/worker-config.ts';
import { bestCorrelation, envelope, sliceMs } from '../support/correlate.ts';

const edge = inject('edgeUrl');
const speech = readWav(readFileSync(new URL('../fixtures/audio/speech-48k.wav', import.meta.url)));
/** The phrase inside speech-48k.wav (ms), from the fixture's README. */
const PHRASE = { from: 250, to: 2683 };

let worker: LocalWorker;
let browser: Browser;
let dir: string;

beforeAll(async () => {
  worker = await startE2eWorker({
    HANDLER: 'echo',
    MAX_SESSIONS: '4',
  });
  // Chromium plays the fake microphone file from getUserMedia on, in a loop: 3 s of silence (the
  // call connects meanwhile), the phrase, then 10 s of silence, so the echo of the phrase plays
  // out in full before the next loop speaks over it.
  dir = mkdtempSync(join(tmpdir(), 'sb-browser-'));
  writeFileSync(join(dir, 'mic.wav'), writeWav(concatFrames([silence(48000, 1, 3000), speech, silence(48000, 1, 10_000)])));
  // Host candidates on loopback: the worker is on 127.0.0.1.
  browser = await launchChromium({ micWav: join(dir, 'mic.wav'), extraArgs: ['--allow-loopback-in-peer-connection'] });
});

afterAll(async () => {
  await browser?.close();
  const code = await worker?.stop();
  expect(code).toBe(0);
  rmSync(dir, { recursive: true, force: true });
});

/** Records the page's remote audio element (what the user hears) at the AudioContext's rate. */
async function startRecording(page: Page): Promise<void> {
  await page.evaluate(() => {
    const el = document.getElementById('remote') as HTMLAudioElement;
    const ctx = new AudioContext();
    const src = ctx.createMediaStreamSource(el.srcObject as MediaStream);
    const proc = ctx.createScriptProcessor(4096, 1, 1);
    const chunks: number[][] = [];
    proc.onaudioprocess = (e) => chunks.push(Array.from(e.inputBuffer.getChannelData(0)));
    src.connect(proc);
    proc.connect(ctx.destination);
    (window as unknown as { recording: { rate: number; chunks: number[][] } }).recording = { rate: ctx.sampleRate, chunks };
  });
}

describe('the demo page in headless Chromium, through edge, queue and a media worker process', () => {
  it('calls, hears its own words echoed after the pause, and shows per-turn latency', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${edge}/`);
    await page.click('#call');
    await page.waitForFunction(() => (window as any).switchboard.status === 'connected', null, { timeout: 15_000 });
    await startRecording(page);
    await page.waitForFunction(() => (window as any).switchboard.events.filter((e: any) => e.type === 'reply.end').length >= 1, null, { timeout: 20_000 });
    await page.waitForFunction(() => (window as any).switchboard.turns.length >= 1, null, { timeout: 5000 });
    const state = await page.evaluate(() => ({
      events: (window as any).switchboard.events.map((e: any) => e.type),
      turns: (window as any).switchboard.turns,
      rows: document.querySelectorAll('#turns tbody tr').length,
      rec: (window as any).recording as { rate: number; chunks: number[][] },
    }));
    expect(errors).toEqual([]);
    expect(state.events.slice(0, 3)).toEqual(['vad.start', 'vad.end', 'reply.start']);
    expect(state.rows).toBeGreaterThanOrEqual(1);
    expect(state.turns[0].endOfSpeechToFirstFrameMs).toBeGreaterThanOrEqual(0);

    // What the browser played back correlates with the phrase it said.
    const flat = state.rec.chunks.flat();
    const heard = await resampleOnce(
      { samples: Int16Array.from(flat, (x) => Math.max(-32768, Math.min(32767, Math.round(x * 32767)))), sampleRate: state.rec.rate, channels: 1 },
      16000,
    );
    const phrase = await resampleOnce(sliceMs(speech, PHRASE.from, PHRASE.to), 16000);
    // Chromium's capture processing (noise suppression, gain control) reshapes the loudness
    // contour, so the bar is relative: the phrase must match far better than the same phrase
    // played backwards (same spectrum and loudness, different contour).
    const { r } = bestCorrelation(envelope(heard), envelope(phrase));
    const reversed = { ...phrase, samples: phrase.samples.slice().reverse() };
    const control = bestCorrelation(envelope(heard), envelope(reversed)).r;
    expect(r).toBeGreaterThan(0.45);
    expect(r - control).toBeGreaterThan(0.15);

    // The page built on the SDK: a conversation line per turn, a latency bar per turn, mute.
    const ui = await page.evaluate(() => ({
      notes: Array.from(document.querySelectorAll('#conversation li'), (li) => li.textContent),
      bars: document.querySelectorAll('#chart rect').length,
    }));
    expect(ui.notes[0]).toMatch(/^connected: session \S+$/);
    expect(ui.bars).toBe(state.turns.length);
    await page.click('#mute');
    expect(await page.evaluate(() => [(window as any).switchboard.call.muted, document.getElementById('mute')!.getAttribute('aria-pressed')])).toEqual([true, 'true']);
    await page.click('#mute');
    expect(await page.evaluate(() => (window as any).switchboard.call.muted)).toBe(false);

    await page.click('#hangup');
    await page.waitForFunction(() => (window as any).switchboard.status === 'idle');

    // The phone field places an outbound call (POST /v1/calls; the stack's Twilio API is a fake).
    await page.fill('#phone', '+15551230000');
    await page.click('#dial-button');
    await page.waitForFunction(() => document.getElementById('dial-result')!.textContent !== '', null, { timeout: 10_000 });
    const dialed = (await page.locator('#dial-result').textContent()) ?? '';
    expect(dialed).toMatch(/^calling: session c_CA[0-9a-f]{32}$/);
    // Nobody answers the fake provider's call: end it, or the worker holding it waits for its media stream.
    const ended = await fetch(`${edge}/v1/sessions/${dialed.split(' ').at(-1)}`, { method: 'DELETE' });
    expect(ended.status).toBe(200);
    expect(errors).toEqual([]);
    await page.close();
  });
});
