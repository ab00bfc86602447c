import { RecordingSaved } from '@switchboard/protocol';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { audioFrame, type AudioFrame } from '../audio/frame.ts';
import { loadWorkerConfig } from '../config.ts';
import { Conference } from '../conference/conference.ts';
import type { MixResult } from '../conference/mixer.ts';
import { sine, toneAmplitude } from '../conference/tone.test-helper.ts';
import { MemoryTransport } from '../pipeline/memory-transport.test-helper.ts';
import { decodeOggOpus } from './decode.test-helper.ts';
import { MemorySink } from './memory-sink.test-helper.ts';
import { startRecording, type SessionRecording } from './session-recording.ts';

const RATE = 16000;
const dirs: string[] = [];
const opened: Conference[] = [];
afterEach(() => opened.splice(0).forEach((c) => c.close()));
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const tone = (hz: number, ms: number, rate = RATE, amp = 6000): AudioFrame => audioFrame(sine(hz, rate, (rate * ms) / 1000, amp), rate, 1);
const config = (env: Record<string, string> = {}) => loadWorkerConfig({ SQS_QUEUE_URL: 'q', ...env });

async function conference(): Promise<Conference> {
  const c = await Conference.create({ sampleRate: RATE });
  opened.push(c);
  return c;
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'session-recording-'));
  dirs.push(d);
  return d;
}

async function until(pred: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!pred()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function heard(t: MemoryTransport): Int16Array {
  const out = new Int16Array(t.played.reduce((n, p) => n + p.frame.samples.length, 0));
  let o = 0;
  for (const p of t.played) {
    out.set(p.frame.samples, o);
    o += p.frame.samples.length;
  }
  return out;
}

function decoded(saved: RecordingSaved, track: string): { pcm: Int16Array; comments: readonly string[]; bytes: number; durationMs: number } {
  const t = saved.tracks.find((x) => x.track === track);
  if (!t) throw new Error(`no track ${track} in ${JSON.stringify(saved)}`);
  const path = fileURLToPath(t.uri);
  expect(statSync(path).size).toBe(t.bytes);
  const { pcm, file } = decodeOggOpus(readFileSync(path), RATE);
  return { pcm: pcm.samples, comments: file.comments, bytes: t.bytes, durationMs: t.durationMs };
}

const offsetOf = (comments: readonly string[]) => Number(comments.find((c) => c.startsWith('START_OFFSET_MS='))?.split('=')[1]);

describe('startRecording', () => {
  it('records each leg from when it appears until it leaves, and the mix with the handler, to files', async () => {
    const conf = await conference();
    const dir = tempDir();
    const logs: string[] = [];
    const [a, b, c] = [new MemoryTransport(), new MemoryTransport(), new MemoryTransport()];
    conf.addLeg('a', a);
    conf.addLeg('b', b);
    const rec = startRecording({ sessionId: 's_rec1', conference: Promise.resolve(conf), config: config({ RECORDING_DIR: dir }), log: (m) => logs.push(m) });
    await until(() => rec.stats.state === 'recording', 'recording');
    conf.handlerOutput.push(tone(1000, 600));
    await Promise.all([
      a.feed(tone(300, 1600)),
      (async () => {
        await b.feed(tone(500, 800));
        conf.removeLeg('b'); // b hangs up midway
      })(),
      (async () => {
        await sleep(500);
        conf.addLeg('c', c); // c joins late
        await c.feed(tone(700, 800));
      })(),
    ]);
    await sleep(200); // c's buffered audio is mixed
    const closing = rec.close();
    expect(rec.close()).toBe(closing);
    const saved = await closing;
    expect(RecordingSaved.parse(saved)).toEqual(saved);
    expect(saved.failed).toBeUndefined();
    expect(saved.tracks.map((t) => t.track)).toEqual(['mix', 'leg-a', 'leg-b', 'leg-c']);
    for (const t of saved.tracks) expect(t.uri).toBe(`file://${dir}/s_rec1/${t.track}.ogg`);
    expect(rec.stats).toMatchObject({ state: 'closed', tracks: 4, legsWithoutTrack: 0, tickErrors: 0 });

    const mix = decoded(saved, 'mix');
    const legA = decoded(saved, 'leg-a');
    const legB = decoded(saved, 'leg-b');
    const legC = decoded(saved, 'leg-c');
    // Each leg's track is its own voice only; the mix has every leg and the handler.
    const amp = (s: Int16Array, hz: number) => toneAmplitude(s, hz, RATE);
    for (const [name, pcm, own, others] of [
      ['a', legA.pcm, 300, [500, 700, 1000]],
      ['b', legB.pcm, 500, [300, 700, 1000]],
      ['c', legC.pcm, 700, [300, 500, 1000]],
    ] as const) {
      expect(amp(pcm, own), `leg ${name} has its own tone`).toBeGreaterThan(2000);
      for (const hz of others) expect(amp(pcm, hz), `leg ${name} has ${hz} Hz`).toBeLessThan(150);
    }
    for (const hz of [300, 500, 700, 1000]) expect(amp(mix.pcm, hz), `mix has ${hz} Hz`).toBeGreaterThan(600);

    // Durations: one frame per tick. a was there throughout; b only until it left; c from its join to the end.
    expect(mix.durationMs).toBe(rec.stats.ticks * 20);
    expect(legA.durationMs).toBe(mix.durationMs);
    expect(legB.durationMs).toBeGreaterThanOrEqual(760);
    expect(legB.durationMs).toBeLessThan(mix.durationMs - 500);
    expect(offsetOf(legC.comments)).toBeGreaterThanOrEqual(400);
    expect(offsetOf(legC.comments) + legC.durationMs).toBe(mix.durationMs);
    expect(offsetOf(legA.comments)).toBe(0);
    expect(legA.comments).toContain('SESSION_ID=s_rec1');
    for (const t of [mix, legA, legB, legC]) expect(Math.abs(t.pcm.length - (t.durationMs * RATE) / 1000)).toBeLessThanOrEqual(RATE / 50);
  });

  it('says the notice to the named legs only, and records from after they heard it', async () => {
    const conf = await conference();
    const phone = new MemoryTransport();
    const web = new MemoryTransport();
    conf.addLeg('phone', phone);
    conf.addLeg('web', web);
    const sinks = new Map<string, MemorySink>();
    const noticeTone = tone(1500, 400);
    let askedAt = -1;
    const rec = startRecording({
      sessionId: 's_notice',
      conference: Promise.resolve(conf),
      config: config(),
      log: () => {},
      sinkFactory: (track) => {
        const s = new MemorySink(`memory://${track}`);
        sinks.set(track, s);
        return s;
      },
      notice: { text: 'This call is recorded.', legIds: () => ['phone', 'gone'] },
      // Stands in for Flite: a tone that is easy to find in what each leg heard.
      say: async function* (text, o) {
        expect(text).toBe('This call is recorded.');
        expect(o.sampleRate).toBe(RATE);
        askedAt = performance.now();
        for (let i = 0; i < noticeTone.samples.length; i += RATE / 50) yield audioFrame(noticeTone.samples.slice(i, i + RATE / 50), RATE);
      },
    });
    const feeding = phone.feed(tone(300, 1200));
    await until(() => rec.stats.state === 'recording', 'recording');
    await feeding;
    const saved = await rec.close();
    expect(saved.tracks.map((t) => t.track)).toEqual(['mix', 'leg-phone', 'leg-web']);
    expect(rec.stats.noticeMs).toBe(400);

    // The phone leg heard the whole notice; the web leg none of it.
    const noticeFrames = phone.played.filter((p) => toneAmplitude(p.frame.samples, 1500, RATE) > 3000);
    expect(noticeFrames.length).toBeGreaterThanOrEqual(19);
    expect(toneAmplitude(heard(web), 1500, RATE)).toBeLessThan(100);
    // Recording began after the last of the notice was played to the phone.
    const startedAt = rec.stats.startedAt!;
    expect(askedAt).toBeGreaterThan(0);
    expect(noticeFrames.at(-1)!.at).toBeLessThanOrEqual(startedAt);
    expect(startedAt - askedAt).toBeGreaterThanOrEqual(380);
    // The phone's track holds less than it said: what it said during the notice is not recorded.
    const phoneTrack = saved.tracks.find((t) => t.track === 'leg-phone')!;
    expect(phoneTrack.durationMs).toBeLessThan(1200 - 300);
    expect(sinks.get('leg-phone')!.bytes().length).toBe(phoneTrack.bytes);
  });

  it('starts recording after the bound when the notice is never heard', async () => {
    const conf = await conference();
    conf.addLeg('phone', new MemoryTransport());
    const logs: string[] = [];
    const rec = startRecording({
      sessionId: 's_stall',
      conference: Promise.resolve(conf),
      config: config(),
      log: (m) => logs.push(m),
      sinkFactory: (track) => new MemorySink(`memory://${track}`),
      notice: { text: 'hello', legIds: () => ['phone'] },
      noticeTimeoutMs: 200,
      // A voice that never yields (a synthesis queue that is stuck).
      say: async function* (_text, o) {
        await new Promise((resolve) => o.signal.addEventListener('abort', resolve));
        yield* [];
      },
    });
    await until(() => rec.stats.ticks > 2, 'recording after the bound');
    expect(logs.some((l) => /notice not heard within 200 ms/.test(l))).toBe(true);
    expect((await rec.close()).tracks.map((t) => t.track)).toEqual(['mix', 'leg-phone']);
  });

  it('gives no track past MAX_RECORDING_TRACKS, never throws into the tick, and reports failures', async () => {
    // A conference double: only onTick and the result shape matter here (the real mixer takes 16 legs).
    let tap: ((r: MixResult) => void) | undefined;
    const fake = { sampleRate: RATE, onTick: (cb: (r: MixResult) => void) => ((tap = cb), () => (tap = undefined)) } as unknown as Conference;
    const logs: string[] = [];
    const rec = startRecording({
      sessionId: 's_many',
      conference: Promise.resolve(fake),
      config: config(),
      log: (m) => logs.push(m),
      sinkFactory: (track) => {
        const s = new MemorySink(`memory://${track}`);
        if (track === 'leg-l3') s.abort(new Error('disk full'));
        return s;
      },
    });
    await until(() => tap !== undefined, 'subscribed');
    const frame = audioFrame(new Int16Array(RATE / 50).fill(100), RATE);
    const legs = ['bad id', ...Array.from({ length: 17 }, (_, i) => `l${i}`)].map((legId) => ({ legId, frame, live: true }));
    const result = (tick: number): MixResult => ({ tick, listeners: [], legs, everyone: frame, everyoneActive: true, all: frame });
    for (let t = 1; t <= 10; t++) expect(() => tap!(result(t))).not.toThrow();
    const saved = await rec.close();
    expect(tap).toBeUndefined(); // unsubscribed
    expect(saved.tracks).toHaveLength(16); // the mix and 15 legs: leg-l3 failed
    expect(saved.tracks.map((t) => t.track)).not.toContain('leg-l16');
    expect(saved.failed).toEqual([{ track: 'leg-l3', error: 'disk full' }]);
    expect(saved.tracks.every((t) => t.durationMs === 200)).toBe(true);
    expect(rec.stats.legsWithoutTrack).toBe(2); // 'bad id' and l16
    expect(logs.filter((l) => /leg l16 not recorded: a session records at most 17 tracks/.test(l))).toHaveLength(1);
    expect(logs.some((l) => /leg bad id not recorded/.test(l))).toBe(true);
    expect(() => RecordingSaved.parse(saved)).not.toThrow();
  });

  it('with no storage configured, the session goes on unrecorded and close() says why', async () => {
    const conf = await conference();
    const logs: string[] = [];
    const rec = startRecording({ sessionId: 's_none', conference: Promise.resolve(conf), config: config(), log: (m) => logs.push(m) });
    const saved = await rec.close();
    expect(saved).toEqual({ tracks: [], failed: [{ track: 'mix', error: 'recording is not configured: set RECORDING_BUCKET (S3) or RECORDING_DIR (local folder)' }] });
    expect(logs).toEqual(['recording: not started: recording is not configured: set RECORDING_BUCKET (S3) or RECORDING_DIR (local folder)']);
    expect(rec.stats.state).toBe('closed');
  });

  it('closed before the conference exists: records nothing and does not wait for it', async () => {
    const rec: SessionRecording = startRecording({
      sessionId: 's_early',
      conference: new Promise<Conference>(() => {}),
      config: config({ RECORDING_DIR: tempDir() }),
      log: () => {},
    });
    expect(await rec.close()).toEqual({ tracks: [] });
  });
});
