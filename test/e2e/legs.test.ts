import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from '../support/inject.ts';
import type { AudioFrame } from '../../media-worker/src/audio/frame.ts';
import { readWav } from '../../media-worker/src/audio/pcm.ts';
import { stream } from '../../media-worker/src/handlers/stream.ts';
import { createMetrics } from '../../media-worker/src/http/metrics.ts';
import { createVadFactory } from '../../media-worker/src/vad/factory.ts';
import { MediaWorker } from '../../media-worker/src/worker.ts';
import { bestCorrelation, envelope, sliceMs } from '../support/correlate.ts';
import { answerLeg, dialLeg } from '../support/legs-calls.ts';
import { RtcTestClient } from '../support/rtc-client.ts';
import { heardByWeb } from '../support/wall-audio.ts';
import { e2eWorkerConfig } from '../support/worker-config.ts';

/**
 * A web user and a phone user in one call, through the real edge (workerd) and a real worker: the
 * web user (a werift peer, Opus 48 kHz) dials a number into its session (`POST .../legs`, the
 * stack's fake Twilio API), the caller simulator answers as the callee (mu-law 8 kHz) and each
 * hears the other's speech through the worker's mixer, never their own. The handler listens and
 * says nothing: the bot is in the call but silent.
 */

const edge = inject('edgeUrl');
const api = inject('twilioApiBase');
const authToken = inject('twilioAuthToken');
const fixture = (name: string): AudioFrame => readWav(readFileSync(new URL(`../fixtures/audio/${name}`, import.meta.url)));

/** Loudness the handler heard from each leg on its own (`ctx.legs.listen`): the sum of squares, by leg id. */
const energyByLeg = new Map<string, number>();
/** Listens to everyone, says nothing; tallies each leg's own audio. */
const listener = stream(async function* (input, ctx) {
  const off = ctx.legs.listen((legId, frame) => {
    let e = 0;
    for (const v of frame.samples) e += v * v;
    energyByLeg.set(legId, (energyByLeg.get(legId) ?? 0) + e);
  });
  try {
    for await (const _frame of input) {
      // the bot hears the conference and stays quiet
    }
  } finally {
    off();
  }
});

let worker: MediaWorker;
beforeAll(async () => {
  worker = new MediaWorker(e2eWorkerConfig({ WORKER_ID: 'w-legs' }), listener, await createVadFactory(), createMetrics(), (m) => console.log('[worker]', m));
  worker.start();
});
afterAll(async () => {
  await worker.drain(2000);
});


describe('a web user and a phone user in one call', { timeout: 60_000 }, () => {
  it('each hears the other through the worker, never themselves; leg.joined and leg.left reach the web user', async () => {
    const web = await RtcTestClient.connect(edge);
    const sessionId = web.sessionUrl.split('/').at(-1)!;
    const leg = await dialLeg({ edge, sessionId, provider: 'twilio', to: '+15550100077', apiBase: api });
    const legId = leg.legId;
    expect(leg.voiceUrl).toBe(`${edge}/twilio/voice?leg=${legId}`);

    const phoneSpeech = fixture('short-utterance.wav'); // speech at 500-1243 ms
    const webSpeech = fixture('hello-pause-question.wav'); // phrases at 500-2933 and 4133-5269 ms
    // The callee answers and speaks from stream time 3000 ms; the web user speaks once the callee is in.
    const phone = answerLeg(edge, leg, {
      authToken,
      from: '+15550100000',
      audio: { samples: phoneSpeech.samples, sampleRate: phoneSpeech.sampleRate },
      leadSilenceMs: 2500,
      tailMs: 4500,
    });
    await web.waitForEvents('leg.joined', 1);
    const webStart = await web.play(webSpeech);
    const r = await phone;
    expect(r.connected).toBe(true);
    expect(r.protocolErrors).toEqual([]);
    expect(r.sessionId).toBe(legId);
    await web.waitForEvents('leg.left', 1);
    expect(web.events.find((e) => e.type === 'leg.joined')).toMatchObject({ legId, kind: 'phone' });
    expect(web.events.find((e) => e.type === 'leg.left')).toMatchObject({ legId });

    // Phone -> web: the callee's speech reaches the web user.
    const phoneProbe = envelope(sliceMs({ samples: phoneSpeech.samples, sampleRate: phoneSpeech.sampleRate, channels: 1 }, 400, 1400));
    // On the wall clock: the worker sends nothing while everyone else is silent, so packets are placed by arrival.
    // (The track starts at the first packet: padded with a second of silence either side, as the web user heard.)
    const webTrack = heardByWeb(web);
    const pad = new Int16Array(webTrack.rate);
    const webHeard = { samples: Int16Array.from([...pad, ...webTrack.samples, ...pad]), sampleRate: webTrack.rate, channels: 1 };
    const toWeb = bestCorrelation(envelope(webHeard), phoneProbe);
    // Web -> phone: the web user's first phrase reaches the callee.
    const webProbe = envelope(sliceMs(webSpeech, 400, 3100));
    const heard: AudioFrame = { samples: r.heard, sampleRate: r.heardSampleRate, channels: 1 };
    const toPhone = bestCorrelation(envelope(heard), webProbe);
    console.log(`legs: phone->web r=${toWeb.r.toFixed(2)}, web->phone r=${toPhone.r.toFixed(2)}`);
    expect(toWeb.r).toBeGreaterThan(0.6);
    expect(toPhone.r).toBeGreaterThan(0.6);
    // No self-echo: the callee does not hear their own speech (it sat at stream time ~2.9-3.8 s, while the web user was silent between phrases? no: check by correlation against their own probe being weaker than the other's).
    const self = bestCorrelation(envelope(heard), phoneProbe);
    expect(self.r).toBeLessThan(toPhone.r);
    expect(webStart).toBeGreaterThan(0);

    // Each leg's own VAD told the web user who spoke (real Silero on each leg's audio).
    const spoke = new Set(web.events.filter((e) => e.type === 'leg.speech.start').map((e) => e['legId']));
    expect(spoke).toEqual(new Set([legId, sessionId]));
    // The handler heard each leg on its own, tagged with its id: both spoke.
    expect(energyByLeg.get(legId)).toBeGreaterThan(1e9);
    expect(energyByLeg.get(sessionId)).toBeGreaterThan(1e9);
    const st = (await (await fetch(`${web.sessionUrl}/status`)).json()) as { legs?: Array<{ legId: string; state: string }> };
    expect(st.legs?.map((l) => [l.legId, l.state])).toEqual([
      [sessionId, 'joined'],
      [legId, 'left'],
    ]);
    await web.hangup();
  });
});
