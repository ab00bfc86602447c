import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from '../support/inject.ts';
import type { AudioFrame } from '../../media-worker/src/audio/frame.ts';
import { concatFrames, readWav, silence, writeWav } from '../../media-worker/src/audio/pcm.ts';
import { createMetrics } from '../../media-worker/src/http/metrics.ts';
import { createVadFactory } from '../../media-worker/src/vad/factory.ts';
import { MediaWorker } from '../../media-worker/src/worker.ts';
import { readApiLog } from '../../scripts/phone/api-log.ts';
import { placedCall } from '../../scripts/phone/providers/api-requests.ts';
import { launchChromium } from '../support/chromium.ts';
import { bestCorrelation, envelope, sliceMs } from '../support/correlate.ts';
import { answerLeg } from '../support/legs-calls.ts';
import { silentListener } from '../support/legs-silent-handler.ts';
import { pageClock, readPageTap, tapPageAudio } from '../support/page-audio.ts';
import { concat, silenceOf, tone } from '../support/phone-audio.ts';
import { firstAudible, heard, saidBySim, heardBySim, slice, type Track } from '../support/wall-audio.ts';
import { e2eWorkerConfig } from '../support/worker-config.ts';

/**
 * The demo page's legs panel in headless Chromium, through the edge (workerd) and an in-process
 * worker whose bot listens and says nothing: the page calls with a fake microphone, dials a number
 * into its call, the caller simulator answers as the callee (fake Twilio API), each hears the
 * other, the bot is taken out and back, and the page hangs the leg up. Mouth-to-ear delays are
 * read at tone bursts: the page's microphone tap to what the callee heard, what the callee sent
 * (paced, on known stream times) to the page's tap of its remote audio.
 */

const edge = inject('edgeUrl');
const api = inject('twilioApiBase');
const fixture = (name: string): AudioFrame => readWav(readFileSync(new URL(`../fixtures/audio/${name}`, import.meta.url)));

// The browser's microphone, looped by Chromium: a phrase, then three 1 kHz bursts.
const MIC_PHRASE = sliceMs(fixture('speech-48k.wav'), 150, 2800); // "Hello there, this is a test of the switchboard."
const MIC_PHRASE_MS = 2650;
const MIC_BURSTS_AT = [3550, 4150, 4750]; // ms after the phrase slice starts
const BURST_MS = 150;
const micLoop = (): AudioFrame => {
  const burst = { samples: tone(BURST_MS, 1000, 48000), sampleRate: 48000, channels: 1 };
  const gap = silence(48000, 1, 600 - BURST_MS);
  return concatFrames([silence(48000, 1, 600), MIC_PHRASE, silence(48000, 1, 900), burst, gap, burst, gap, burst, silence(48000, 1, 1650)]);
};

// The callee: lead silence, a phrase, then three 700 Hz bursts, at 16 kHz.
const PHONE_LEAD_MS = 1200;
const PHONE_PHRASE = sliceMs(fixture('hello-pause-question.wav'), 4033, 5369); // "How are you doing today?"
const PHONE_PHRASE_MS = 1336;
const PHONE_BURSTS_AT = [2036, 2636, 3236]; // ms after the phrase starts
const phoneAudio = concat(PHONE_PHRASE.samples, silenceOf(700, 16000), ...PHONE_BURSTS_AT.flatMap(() => [tone(BURST_MS, 700, 16000), silenceOf(600 - BURST_MS, 16000)]), silenceOf(500, 16000));

let worker: MediaWorker;
let browser: Browser;
let dir: string;

beforeAll(async () => {
  worker = new MediaWorker(e2eWorkerConfig({ WORKER_ID: 'w-browser-legs' }), silentListener, await createVadFactory(), createMetrics(), () => {});
  worker.start();
  dir = mkdtempSync(join(tmpdir(), 'sb-browser-legs-'));
  writeFileSync(join(dir, 'mic.wav'), writeWav(micLoop()));
  browser = await launchChromium({ micWav: join(dir, 'mic.wav'), extraArgs: ['--allow-loopback-in-peer-connection'] });
});

afterAll(async () => {
  await browser?.close();
  await worker?.drain(2000);
  rmSync(dir, { recursive: true, force: true });
});

const legState = (page: Page, legId: string) => page.evaluate((id) => document.querySelector(`#leg-${id} .leg-state`)?.getAttribute('data-state') ?? null, legId);
const waitLeg = (page: Page, legId: string, s: string, timeout = 10_000) =>
  page.waitForFunction(([id, want]) => document.querySelector(`#leg-${id} .leg-state`)?.getAttribute('data-state') === want, [legId, s] as const, { timeout });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** Each burst's delay from `speaker` to `listener` (NaN where the listener heard nothing within a second). */
function burstDelays(speaker: Track, listener: Track, expectedAt: number[]): number[] {
  return expectedAt.map((at) => {
    const mouth = firstAudible(speaker, at - 100);
    if (!(Math.abs(mouth - at) < 100)) return Number.NaN;
    const ear = firstAudible(listener, mouth - 20);
    return ear - mouth < 1000 ? ear - mouth : Number.NaN;
  });
}

describe('the demo page dials a phone into its call', { timeout: 90_000 }, () => {
  it('the leg joins, both hear each other, the bot leaves and returns, and the panel hangs the leg up', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${edge}/`);
    expect(await page.isHidden('#legs-panel')).toBe(true);
    await page.click('#call');
    await page.waitForFunction(() => (window as any).switchboard.status === 'connected', null, { timeout: 15_000 });
    expect(await page.isVisible('#legs-panel')).toBe(true);
    const sessionId = await page.evaluate(() => (window as any).switchboard.call.sessionId as string);
    await tapPageAudio(page, 'mic', 'mic');
    await tapPageAudio(page, 'remote', 'remote');
    const clock = await pageClock(page);

    // Dial from the panel; learn the placed call from the fake Twilio API's log and answer it.
    const to = '+15550100088';
    await page.fill('#leg-phone', to);
    await page.click('#leg-add');
    await page.waitForFunction(() => Object.values((window as any).switchboard.legs).some((l: any) => !l.self), null, { timeout: 10_000 });
    const legId = await page.evaluate(() => (Object.values((window as any).switchboard.legs) as any[]).find((l) => !l.self).legId as string);
    expect(legId).toMatch(/^l_[0-9a-f]{32}$/);
    expect(await legState(page, legId)).toBe('dialing');
    expect(await page.textContent('#leg-result')).toBe(`dialing ${to}`);
    const placed = (await readApiLog(api)).map((r) => (r ? placedCall('twilio', r) : null)).find((p) => p?.url.includes(legId));
    expect(placed?.id).toMatch(/^CA[0-9a-f]{32}$/);
    expect(placed?.to).toBe(to);
    const leg = { legId, callSid: placed!.id!, provider: 'twilio' as const, to, voiceUrl: placed!.url, statusUrl: placed!.statusCallbackUrl! };
    const simLog: string[] = [];
    const call = answerLeg(edge, leg, {
      authToken: inject('twilioAuthToken'),
      providerApiUrl: api,
      audio: { samples: phoneAudio, sampleRate: 16000 },
      leadSilenceMs: PHONE_LEAD_MS,
      hangupAtMs: 60_000,
      onLog: (l) => simLog.push(`${Math.round(performance.now())} ${l}`),
    });

    await waitLeg(page, legId, 'joined');
    const joinedAt = performance.now();
    // The status read after leg.joined lists this browser first.
    await page.waitForFunction((id) => (window as any).switchboard.legs[id]?.self === true, sessionId, { timeout: 5000 });
    expect(await page.textContent(`#leg-${sessionId} td`)).toBe('you (this browser)');
    expect(await page.isDisabled(`#leg-${legId} button.leg-hangup`)).toBe(false);
    // Long enough for one whole loop of the microphone (7.15 s) after the join, and the callee's audio.
    await new Promise((r) => setTimeout(r, 14_000));
    const talkEnd = performance.now();

    // The bot leaves and comes back: the page sends `bot`, the worker confirms, the page shows it.
    await page.click('#bot');
    await page.waitForFunction(() => document.getElementById('bot-state')!.textContent === 'bot out of the call', null, { timeout: 5000 });
    expect(await page.getAttribute('#bot', 'aria-pressed')).toBe('false');
    await page.click('#bot');
    await page.waitForFunction(() => document.getElementById('bot-state')!.textContent === 'bot in the call', null, { timeout: 5000 });
    const botEvents = await page.evaluate(() => (window as any).switchboard.events.filter((e: any) => e.type === 'bot'));
    expect(botEvents).toEqual([{ type: 'bot', active: false }, { type: 'bot', active: true }]);

    // Hang the leg up from the panel: the edge ends the call through the provider's API.
    await page.click(`#leg-${legId} button.leg-hangup`);
    await waitLeg(page, legId, 'left');
    const r = await call;
    expect(r.connected).toBe(true);
    expect(r.protocolErrors).toEqual([]);
    const hangups = (await readApiLog(api)).filter((q) => q?.path.endsWith(`/Calls/${leg.callSid}.json`) && q.fields['Status'] === 'completed');
    expect(hangups, simLog.join('\n')).toHaveLength(1);
    // As in legs-hangup.test.ts: the simulator sees the API hang-up first ('provider'), or the
    // edge's close of the stream wins that race ('server').
    expect(['provider', 'server'], simLog.join('\n')).toContain(r.closedBy);
    if (r.closedBy === 'provider') expect(r.hungUpBy).toBe('api');
    expect(await page.textContent(`#leg-${legId} .leg-state`)).toBe('left (client_hangup)');
    expect(await page.isDisabled(`#leg-${legId} button.leg-hangup`)).toBe(true);
    const types = await page.evaluate(() => (window as any).switchboard.events.map((e: any) => e.type) as string[]);
    expect(types.filter((t) => t === 'leg.joined' || t === 'leg.left')).toEqual(['leg.joined', 'leg.left']);
    // Each leg's VAD said who spoke (this browser's microphone, the phone's speech).
    expect(types).toContain('leg.speech.start');

    const mic = await readPageTap(page, 'mic', clock);
    const remote = await readPageTap(page, 'remote', clock);
    const phoneHeard = heardBySim(r);
    const phoneSaid = saidBySim(r, phoneAudio, 16000, PHONE_LEAD_MS);

    // Browser -> phone: where the microphone said its phrase after the join, then what the callee heard of it.
    const phraseEnv = envelope(MIC_PHRASE);
    const searchFrom = joinedAt + 200;
    const found = bestCorrelation(envelope(slice(mic, searchFrom, talkEnd - 2400)), phraseEnv);
    const micPhraseAt = searchFrom + found.lag * 10;
    const toPhone = heard(phoneHeard, mic, micPhraseAt + 100, micPhraseAt + MIC_PHRASE_MS - 100);
    // Phone -> browser: the callee's phrase (sent on known stream times) in the page's remote audio.
    const phonePhraseAt = phoneSaid.t0;
    const toWeb = heard(remote, phoneSaid, phonePhraseAt, phonePhraseAt + PHONE_PHRASE_MS);
    // The callee does not hear itself: its own phrase matches what it heard worse than the browser's does.
    const selfEcho = heard(phoneHeard, phoneSaid, phonePhraseAt, phonePhraseAt + PHONE_PHRASE_MS);
    const up = burstDelays(mic, phoneHeard, MIC_BURSTS_AT.map((d) => micPhraseAt + d));
    const down = burstDelays(phoneSaid, remote, PHONE_BURSTS_AT.map((d) => phonePhraseAt + d));
    console.log(
      `browser-legs: mic phrase found at r=${found.r.toFixed(2)}; browser->phone r=${toPhone.r.toFixed(2)} (lag ${toPhone.lagMs} ms), phone->browser r=${toWeb.r.toFixed(2)} (lag ${toWeb.lagMs} ms); ` +
        `mouth-to-ear at bursts: browser->phone ${up.map((x) => x.toFixed(0)).join('/')} ms, phone->browser ${down.map((x) => x.toFixed(0)).join('/')} ms ` +
        `(page clock ±${clock.uncertaintyMs.toFixed(1)} ms, taps ${mic.blocks}/${remote.blocks} blocks of 21 ms, tap drift ${mic.driftMs.toFixed(0)}/${remote.driftMs.toFixed(0)} ms); self-echo r=${selfEcho.r.toFixed(2)}; closed by ${r.closedBy} (${r.closeCode ?? '-'} ${r.closeReason ?? ''})`,
    );
    expect(found.r).toBeGreaterThan(0.8);
    expect(toPhone.r).toBeGreaterThan(0.6);
    expect(toWeb.r).toBeGreaterThan(0.6);
    expect(selfEcho.r).toBeLessThan(toPhone.r);
    // Each burst arrived (a delay under a second); the medians are logged above, not held to a bound.
    expect(up.filter(Number.isFinite).length, `browser->phone ${up}`).toBeGreaterThanOrEqual(2);
    expect(down.filter(Number.isFinite).length, `phone->browser ${down}`).toBeGreaterThanOrEqual(2);
    console.log(`browser-legs: median mouth-to-ear browser->phone ${median(up.filter(Number.isFinite)).toFixed(0)} ms, phone->browser ${median(down.filter(Number.isFinite)).toFixed(0)} ms`);

    await page.click('#hangup');
    await page.waitForFunction(() => (window as any).switchboard.status === 'idle', null, { timeout: 5000 });
    expect(await page.isHidden('#legs-panel')).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });
});
