import type { Page } from 'playwright-core';
import type { Track } from './wall-audio.ts';

/**
 * Audio taps inside a Chromium page, on this process's clock: a tap records a MediaStream of the
 * page (the microphone as the call sends it, after Chromium's capture processing, or the remote
 * audio the user hears) through WebAudio, and stamps each block with the page's wall clock when it
 * arrived. Read back, a tap is a `Track` (wall-audio.ts) whose times are this process's
 * `performance.now()`, so that what the page said or heard lines up with what a caller simulator
 * heard or said.
 *
 * Block stamps are taken in the page's main thread, which runs late but never early: the tap's
 * start is the earliest stamp less the audio before it (blocks are contiguous), good to a few ms;
 * `driftMs` says how far the stamps' floor moved from the tap's first tenth to its last.
 */

/** Samples per block: 1024 at 48 kHz is 21 ms. */
const BLOCK = 1024;

/** Starts tap `name` on the call's microphone (`mic`) or on the page's `<audio id="remote">` (`remote`). */
export async function tapPageAudio(page: Page, name: string, source: 'mic' | 'remote'): Promise<void> {
  await page.evaluate(
    ({ name, source, block }) => {
      const w = window as any;
      const stream: MediaStream | null = source === 'mic' ? w.switchboard.call?.microphone : (document.getElementById('remote') as HTMLAudioElement).srcObject;
      if (!stream) throw new Error(`no ${source} stream to tap`);
      w.__taps ??= {};
      w.__tapCtx ??= new AudioContext();
      const ctx: AudioContext = w.__tapCtx;
      const src = ctx.createMediaStreamSource(stream);
      const proc = ctx.createScriptProcessor(block, 1, 1);
      const tap = { rate: ctx.sampleRate, blocks: [] as Float32Array[], at: [] as number[], src, proc };
      // The output buffer stays silent: nothing of the tap is played.
      proc.onaudioprocess = (e) => {
        tap.at.push(performance.timeOrigin + performance.now());
        tap.blocks.push(new Float32Array(e.inputBuffer.getChannelData(0)));
      };
      src.connect(proc);
      proc.connect(ctx.destination);
      w.__taps[name] = tap;
    },
    { name, source, block: BLOCK },
  );
}

/**
 * The offset to add to the page's wall clock (epoch ms) to get this process's `performance.now()`,
 * from the quickest of a few round trips; `uncertaintyMs` is half that round trip.
 */
export async function pageClock(page: Page): Promise<{ offsetMs: number; uncertaintyMs: number }> {
  let best = { offsetMs: 0, uncertaintyMs: Infinity };
  for (let i = 0; i < 5; i++) {
    const before = performance.now();
    const pageEpoch = await page.evaluate(() => performance.timeOrigin + performance.now());
    const after = performance.now();
    if ((after - before) / 2 < best.uncertaintyMs) best = { offsetMs: (before + after) / 2 - pageEpoch, uncertaintyMs: (after - before) / 2 };
  }
  return best;
}

/** Stops tap `name` and reads it as a Track on this process's clock (16-bit mono at the context's rate). */
export async function readPageTap(page: Page, name: string, clock: { offsetMs: number }): Promise<Track & { blocks: number; driftMs: number }> {
  const got = await page.evaluate((name) => {
    const tap = (window as any).__taps[name];
    tap.src.disconnect();
    tap.proc.disconnect();
    const blocks: Float32Array[] = tap.blocks;
    const n = blocks.reduce((a, b) => a + b.length, 0);
    const pcm = new Int16Array(n);
    let at = 0;
    let t0 = Infinity;
    blocks.forEach((b, i) => {
      for (let j = 0; j < b.length; j++) pcm[at + j] = Math.max(-32768, Math.min(32767, Math.round(b[j]! * 32767)));
      at += b.length;
      // Block i's last sample was there by its stamp: the tap's first sample at most `at` samples before.
      t0 = Math.min(t0, tap.at[i] - (at / tap.rate) * 1000);
    });
    const bytes = new Uint8Array(pcm.buffer);
    let bin = '';
    for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    // How late each block's stamp was against the contiguous timeline: a floor that rises over the
    // tap means lost audio (or clocks apart), so the timeline's start no longer holds late in the tap.
    let end = 0;
    const late = blocks.map((b, i) => tap.at[i] - t0 - ((end += b.length) / tap.rate) * 1000);
    const floor = (xs: number[]) => Math.min(...xs);
    const tenth = Math.max(1, Math.floor(late.length / 10));
    return { b64: btoa(bin), rate: tap.rate as number, t0, blocks: blocks.length, driftMs: floor(late.slice(-tenth)) - floor(late.slice(0, tenth)) };
  }, name);
  const buf = Buffer.from(got.b64, 'base64');
  const samples = new Int16Array(buf.buffer, buf.byteOffset, buf.byteLength / 2).slice();
  return { samples, rate: got.rate, t0: got.t0 + clock.offsetMs, blocks: got.blocks, driftMs: got.driftMs };
}
