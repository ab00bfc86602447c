import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SessionStatus } from '@switchboard/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from '../support/inject.ts';
import type { AudioFrame } from '../../media-worker/src/audio/frame.ts';
import { readWav } from '../../media-worker/src/audio/pcm.ts';
import { stream } from '../../media-worker/src/handlers/stream.ts';
import { createMetrics } from '../../media-worker/src/http/metrics.ts';
import { decodeOggOpus } from '../../media-worker/src/recording/decode.test-helper.ts';
import { createVadFactory } from '../../media-worker/src/vad/factory.ts';
import { MediaWorker } from '../../media-worker/src/worker.ts';
import { bestCorrelation, envelope, sliceMs } from '../support/correlate.ts';
import { answerLeg, dialLeg } from '../support/legs-calls.ts';
import { RtcTestClient } from '../support/rtc-client.ts';
import { e2eWorkerConfig } from '../support/worker-config.ts';

/**
 * A recorded call through the real edge (workerd) and a real worker: a web user creates the
 * session with `?record=true`, dials a phone leg into it, both speak; after the hang-up the
 * session's status carries the files (`mix`, `leg-{sessionId}`, `leg-{legId}`), which decode and
 * hold what each side said: each leg's track its own speech, the mix both.
 */

const edge = inject('edgeUrl');
const api = inject('twilioApiBase');
const authToken = inject('twilioAuthToken');
const fixture = (name: string): AudioFrame => readWav(readFileSync(new URL(`../fixtures/audio/${name}`, import.meta.url)));
const RATE = 16000;

/** Listens to everyone, says nothing. */
const listener = stream(async function* (input) {
  for await (const _frame of input) {
    // silent bot
  }
});

let worker: MediaWorker;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'e2e-recording-'));
  worker = new MediaWorker(e2eWorkerConfig({ WORKER_ID: 'w-rec', RECORDING_DIR: dir }), listener, await createVadFactory(), createMetrics(), (m) => console.log('[worker]', m));
  worker.start();
});
afterAll(async () => {
  await worker.drain(2000);
  rmSync(dir, { recursive: true, force: true });
});


/**
 * RtcTestClient.connect posts to `${edgeUrl}/v1/sessions` and takes no query: the query rides in
 * the base URL (`.../v1/sessions?record=true&_=` + `/v1/sessions`), and the session URL is put back
 * together from the Location the edge answered.
 */
async function connectRecorded(): Promise<RtcTestClient> {
  const web = await RtcTestClient.connect(`${edge}/v1/sessions?record=true&_=`);
  const location = new URL(web.sessionUrl).searchParams.get('_')!;
  expect(location).toMatch(/^\/v1\/sessions\/s_[0-9a-f]{32}$/);
  web.sessionUrl = `${edge}${location}`;
  return web;
}

async function savedStatus(sessionUrl: string): Promise<SessionStatus> {
  const end = Date.now() + 20_000;
  for (;;) {
    const s = SessionStatus.parse(await (await fetch(`${sessionUrl}/status`)).json());
    if (s.recording?.state === 'saved') return s;
    if (Date.now() > end) throw new Error(`the recording was never saved: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function track(s: SessionStatus, name: string): AudioFrame {
  const t = s.recording?.tracks?.find((x) => x.track === name);
  if (!t) throw new Error(`no track ${name} in ${JSON.stringify(s.recording)}`);
  const path = fileURLToPath(t.uri);
  expect(existsSync(path)).toBe(true);
  const bytes = readFileSync(path);
  expect(bytes.length).toBe(t.bytes);
  const { pcm } = decodeOggOpus(bytes, RATE);
  expect(Math.abs(pcm.samples.length - (t.durationMs * RATE) / 1000)).toBeLessThanOrEqual(RATE / 50);
  return pcm;
}

describe('a recorded call: a web user and a phone leg', { timeout: 90_000 }, () => {
  it('saves a track per leg and the mix, each holding what was said', async () => {
    const web = await connectRecorded();
    const sessionId = web.sessionUrl.split('/').at(-1)!;
    expect(SessionStatus.parse(await (await fetch(`${web.sessionUrl}/status`)).json()).recording).toEqual({ state: 'recording' });
    const leg = await dialLeg({ edge, sessionId, provider: 'twilio', to: '+15550100078', apiBase: api });
    const legId = leg.legId;

    const phoneSpeech = fixture('short-utterance.wav'); // speech at 500-1243 ms
    const webSpeech = fixture('hello-pause-question.wav'); // phrases at 500-2933 and 4133-5269 ms
    const phone = answerLeg(edge, leg, {
      authToken,
      from: '+15550100000',
      audio: { samples: phoneSpeech.samples, sampleRate: phoneSpeech.sampleRate },
      leadSilenceMs: 2500,
      tailMs: 4500,
    });
    await web.waitForEvents('leg.joined', 1);
    await web.play(webSpeech);
    const r = await phone;
    expect(r.connected).toBe(true);
    await web.waitForEvents('leg.left', 1);
    await web.play({ samples: new Int16Array(48000), sampleRate: 48000, channels: 1 }); // 1 s more of the web user alone
    expect(await web.hangup()).toBe(200);

    const s = await savedStatus(web.sessionUrl);
    expect(s.recording?.failed).toBeUndefined();
    expect(s.recording?.tracks?.map((t) => t.track).sort()).toEqual(['leg-' + legId, 'leg-' + sessionId, 'mix'].sort());
    const mix = track(s, 'mix');
    const webTrack = track(s, `leg-${sessionId}`);
    const phoneTrack = track(s, `leg-${legId}`);
    const dur = (name: string) => s.recording!.tracks!.find((t) => t.track === name)!.durationMs;
    // The phone leg left first: its track is shorter than the web user's, which lasts as long as the mix.
    expect(dur(`leg-${legId}`)).toBeLessThan(dur(`leg-${sessionId}`) - 500);
    expect(Math.abs(dur(`leg-${sessionId}`) - dur('mix'))).toBeLessThanOrEqual(40);

    const webProbe = envelope(sliceMs(webSpeech, 400, 3100));
    const phoneProbe = envelope(sliceMs({ samples: phoneSpeech.samples, sampleRate: phoneSpeech.sampleRate, channels: 1 }, 400, 1400));
    const corr = (f: AudioFrame, probe: Float64Array) => bestCorrelation(envelope(f), probe).r;
    const table = {
      webTrackWeb: corr(webTrack, webProbe),
      webTrackPhone: corr(webTrack, phoneProbe),
      phoneTrackPhone: corr(phoneTrack, phoneProbe),
      phoneTrackWeb: corr(phoneTrack, webProbe),
      mixWeb: corr(mix, webProbe),
      mixPhone: corr(mix, phoneProbe),
    };
    console.log('recording correlations', JSON.stringify(Object.fromEntries(Object.entries(table).map(([k, v]) => [k, Number(v.toFixed(2))]))));
    expect(table.webTrackWeb).toBeGreaterThan(0.6);
    expect(table.phoneTrackPhone).toBeGreaterThan(0.6);
    expect(table.mixWeb).toBeGreaterThan(0.6);
    expect(table.mixPhone).toBeGreaterThan(0.6);
    // Each leg's track is its own voice: the other's speech fits it worse than its own.
    expect(table.webTrackPhone).toBeLessThan(table.webTrackWeb);
    expect(table.phoneTrackWeb).toBeLessThan(table.phoneTrackPhone);
  });
});
