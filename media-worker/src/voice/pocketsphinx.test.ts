/**
 * The recognizer on the real pocketsphinx (Debian packages pocketsphinx, pocketsphinx-en-us:
 * scripts/system-deps.sh), fed Flite speech from say(): a TTS → ASR round trip. Process faults
 * (a stuck decoder, a missing binary) use a fake `pocketsphinx_batch` on a test PATH.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { audioFrame, type AudioFrame } from '../audio/frame.ts';
import { concatFrames, silence } from '../audio/pcm.ts';
import {
  createRecognizer,
  PocketsphinxMissingError,
  PocketsphinxTimeoutError,
  RecognizerBusyError,
  RecognizerFailedError,
  type Recognizer,
} from './pocketsphinx.ts';
import { say, type FliteVoice } from './say.ts';

const GRAMMAR = `#JSGF V1.0;
grammar test;
public <utterance> = what time is it | tell me a joke | goodbye | help;
`;

/** `text` spoken by Flite at `rate`, with 300 ms of silence either side (as a pipeline turn has). */
async function spoken(text: string, voice: FliteVoice = 'slt', rate = 16_000): Promise<AudioFrame> {
  const frames = [silence(rate, 1, 300)];
  for await (const f of say(text, { voice, sampleRate: rate })) frames.push(f);
  frames.push(silence(rate, 1, 300));
  return concatFrames(frames);
}

const open: Recognizer[] = [];
async function recognizer(extra: Partial<Parameters<typeof createRecognizer>[0]> = {}): Promise<Recognizer> {
  const r = await createRecognizer({ grammar: GRAMMAR, ...extra });
  open.push(r);
  return r;
}
afterEach(async () => {
  for (const r of open.splice(0)) await r.close();
});

const fakeDirs: string[] = [];
/** A PATH whose pocketsphinx_batch answers the first utterance (the start-up check), then hangs. */
function hangingFakePath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fake-pocketsphinx-'));
  fakeDirs.push(dir);
  const script = `#!/bin/sh
while [ $# -gt 0 ]; do case "$1" in -ctl) ctl=$2;; -hypseg) hyp=$2;; esac; shift; done
exec 3<"$ctl" 4>"$hyp"
read -r id <&3
echo "$id S 0 T 0 A 0 L 0 0" >&4
exec sleep 600
`;
  writeFileSync(join(dir, 'pocketsphinx_batch'), script);
  chmodSync(join(dir, 'pocketsphinx_batch'), 0o755);
  return `${dir}:/usr/bin:/bin`;
}
afterAll(() => {
  for (const d of fakeDirs) rmSync(d, { recursive: true, force: true });
});

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('pocketsphinx recognizer', { timeout: 30_000 }, () => {
  it('recognizes Flite speech of each grammar phrase, in several voices and rates', async () => {
    const asr = await recognizer();
    const cases: Array<[string, FliteVoice, number]> = [
      ['what time is it', 'slt', 16_000],
      ['what time is it', 'rms', 48_000],
      ['what time is it', 'awb', 16_000],
      ['what time is it', 'kal16', 16_000],
      ['what time is it', 'kal', 8000],
      ['tell me a joke', 'slt', 16_000],
      ['goodbye', 'rms', 16_000],
      ['help', 'awb', 24_000],
    ];
    for (const [text, voice, rate] of cases) {
      const r = await asr.recognize(await spoken(text, voice, rate));
      expect(`${voice}@${rate}: ${r.text}`).toBe(`${voice}@${rate}: ${text}`);
      expect(r.words).toEqual(text.split(' '));
      expect(r.scorePerFrame).toBeLessThan(0);
      expect(r.ms).toBeLessThan(1000);
    }
  });

  it('silence and stereo input: nothing recognized from silence; stereo is mixed down', async () => {
    const asr = await recognizer();
    expect((await asr.recognize(silence(16_000, 1, 1500))).text).toBe('');
    const mono = await spoken('tell me a joke');
    const stereo = new Int16Array(mono.samples.length * 2);
    mono.samples.forEach((v, i) => stereo.set([v, v], 2 * i));
    expect((await asr.recognize(audioFrame(stereo, 16_000, 2))).text).toBe('tell me a joke');
  });

  it('bounds pending recognitions and utterance length with clear errors', async () => {
    const asr = await recognizer({ maxPending: 2, maxUtteranceMs: 5000 });
    const turn = await spoken('goodbye');
    const first = asr.recognize(turn);
    const second = asr.recognize(turn);
    await expect(asr.recognize(turn)).rejects.toThrow(RecognizerBusyError);
    expect((await first).text).toBe('goodbye');
    expect((await second).text).toBe('goodbye');
    expect(asr.stats.pending).toBe(0);
    await expect(asr.recognize(silence(16_000, 1, 6000))).rejects.toThrow(/6000 ms is longer than the 5000 ms limit/);
  });

  it('an aborted recognition rejects at once with the reason; the next one still works', async () => {
    const asr = await recognizer();
    const turn = await spoken('help');
    const ac = new AbortController();
    const p = asr.recognize(turn, ac.signal);
    ac.abort(new Error('barge-in'));
    await expect(p).rejects.toThrow('barge-in');
    expect((await asr.recognize(turn)).text).toBe('help');
  });

  it('kills a stuck process on timeout, restarts it, and gives up after maxRestarts', async () => {
    const asr = await recognizer({ env: { PATH: hangingFakePath() }, timeoutMs: 300, maxRestarts: 1 });
    const pid = asr.stats.pid!;
    const turn = silence(16_000, 1, 500);
    const started = performance.now();
    await expect(asr.recognize(turn)).rejects.toThrow(PocketsphinxTimeoutError);
    expect(performance.now() - started).toBeLessThan(2000);
    await sleep(100);
    expect(isRunning(pid)).toBe(false);
    // Restarted: the new fake answers its first utterance.
    expect((await asr.recognize(turn)).text).toBe('');
    expect(asr.stats.restarts).toBe(1);
    expect(asr.stats.pid).not.toBe(pid);
    await expect(asr.recognize(turn)).rejects.toThrow(PocketsphinxTimeoutError);
    await expect(asr.recognize(turn)).rejects.toThrow(RecognizerFailedError);
    await expect(asr.recognize(turn)).rejects.toThrow(/giving up/);
  });

  it('says which packages to install when the binary is not on PATH', async () => {
    const err = await createRecognizer({ grammar: GRAMMAR, env: { PATH: '/nonexistent' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PocketsphinxMissingError);
    expect(String(err)).toMatch(/pocketsphinx_batch not found on PATH: install Debian packages pocketsphinx pocketsphinx-en-us/);
    const noModel = await createRecognizer({ grammar: GRAMMAR, modelDir: '/nonexistent' }).catch((e: unknown) => e);
    expect(String(noModel)).toMatch(/model not found in \/nonexistent: install Debian packages/);
  });

  it('a grammar word missing from the dictionary fails at start-up with pocketsphinx\'s message', async () => {
    const err = await createRecognizer({ grammar: GRAMMAR.replace('help', 'Help') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecognizerFailedError);
    expect(String(err)).toMatch(/The word 'Help' is missing in the dictionary/);
  });
});
