import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from '../support/inject.ts';
import { SessionStatus } from '@switchboard/protocol';
import { concatFrames, readWav, silence, writeWav } from '../../media-worker/src/audio/pcm.ts';
import type { LocalWorker } from '../../scripts/stack/media-worker.ts';
import { launchChromium } from '../support/chromium.ts';
import { killE2eWorkers, startE2eWorker } from '../support/worker-config.ts';

/**
 * The demo page resumes by itself: headless Chromium calls through the real stack with two worker
 * processes, the worker holding the call is SIGKILLed, and the page (no test code in it) notices
 * the lost connection, posts a fresh offer to the session's resume URL, and the other worker takes
 * the call over: the page shows `reconnected`, the session keeps its id, and the echo is heard again.
 */

const edge = inject('edgeUrl');
const speech = readWav(readFileSync(new URL('../fixtures/audio/speech-48k.wav', import.meta.url)));

const workers = new Map<string, LocalWorker>();
let browser: Browser;
let dir: string;

beforeAll(async () => {
  for (const id of ['w-resume-a', 'w-resume-b']) {
    workers.set(
      id,
      await startE2eWorker({
        HANDLER: 'echo',
        MAX_SESSIONS: '2',
        WORKER_ID: id,
      }),
    );
  }
  // The microphone loops: 3 s of silence, the phrase, 6 s of silence; every loop is one echoed turn.
  dir = mkdtempSync(join(tmpdir(), 'sb-browser-resume-'));
  writeFileSync(join(dir, 'mic.wav'), writeWav(concatFrames([silence(48000, 1, 3000), speech, silence(48000, 1, 6000)])));
  browser = await launchChromium({ micWav: join(dir, 'mic.wav'), extraArgs: ['--allow-loopback-in-peer-connection'] });
});

afterAll(async () => {
  await browser?.close();
  await killE2eWorkers(workers.values());
  rmSync(dir, { recursive: true, force: true });
});

async function status(location: string): Promise<SessionStatus> {
  return SessionStatus.parse(await (await fetch(`${edge}${location}/status`)).json());
}

describe('the demo page resumes a call whose worker died', () => {
  it('reconnects to the same session on the other worker and the echo is heard again', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${edge}/`);
    await page.click('#call');
    await page.waitForFunction(() => (window as any).switchboard.status === 'connected', null, { timeout: 15_000 });
    const location = await page.evaluate(() => (window as any).switchboard.sessionUrl as string);
    // The page is connected once its DTLS is; the worker's `live` reaches the edge a moment later.
    await expect.poll(async () => (await status(location)).state, { timeout: 5000, interval: 50 }).toBe('live');
    const before = await status(location);
    const victim = workers.get(before.workerId ?? '');
    expect(victim, `held by ${before.workerId}`).toBeDefined();

    // Mid-call: the page's liveness probe has been answered (it arms on the first pong).
    await page.waitForFunction(() => (window as any).switchboard.pongs > 0, null, { timeout: 5000 });
    const killedAt = Date.now();
    await victim!.stop('SIGKILL');
    await page.waitForFunction(() => (window as any).switchboard.events.some((e: any) => e.type === 'reconnected'), null, { timeout: 40_000 });
    const reconnectedMs = Date.now() - killedAt;
    const events = await page.evaluate(() => (window as any).switchboard.events as { type: string; afterMs?: number }[]);
    // Noticed by the liveness probe (no pong), not by the browser's ICE timers.
    expect(events.map((e) => e.type)).toContain('liveness');
    const reconnected = events.find((e) => e.type === 'reconnected')!;
    const index = events.indexOf(reconnected);
    // The echo works on the new connection: a turn answered after the reconnection.
    await page.waitForFunction((i) => (window as any).switchboard.events.slice(i).some((e: any) => e.type === 'reply.end'), index, { timeout: 25_000 });
    const heardMs = Date.now() - killedAt;
    console.log(
      `[browser-resume] worker SIGKILLed: the page reconnected ${reconnectedMs} ms later (${reconnected.afterMs} ms after it saw the connection fail), the next echo ended ${heardMs} ms after the kill`,
    );

    const after = await status(location);
    expect(after.id).toBe(before.id);
    expect(after.state).toBe('live');
    expect(after.workerId).not.toBe(before.workerId);
    expect(await page.evaluate(() => (window as any).switchboard.status)).toBe('connected');
    expect(errors).toEqual([]);
    await page.click('#hangup');
    await page.waitForFunction(() => (window as any).switchboard.status === 'idle');
    await page.close();
  }, 90_000);
});
