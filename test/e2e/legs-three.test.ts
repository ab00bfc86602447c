import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from '../support/inject.ts';
import { createMetrics } from '../../media-worker/src/http/metrics.ts';
import { createVadFactory } from '../../media-worker/src/vad/factory.ts';
import { MediaWorker } from '../../media-worker/src/worker.ts';
import { answerLeg, dialLeg, postUnanswered, sessionStatus } from '../support/legs-calls.ts';
import { silentListener } from '../support/legs-silent-handler.ts';
import { concat, silenceOf } from '../support/phone-audio.ts';
import { RtcTestClient } from '../support/rtc-client.ts';
import { heard, heardBySim, heardByWeb, longestSilence, modulatedTone, rmsAt, saidBySim, type Track } from '../support/wall-audio.ts';
import { e2eWorkerConfig } from '../support/worker-config.ts';

/**
 * Three parties in one call through the real edge and a real worker: a web user (werift, Opus
 * 48 kHz) dials two phone legs through two providers (Telnyx, Plivo; the stack's fake REST APIs),
 * the caller simulator answers each. Each party speaks alone in its own window (a tone with a
 * loudness contour of its own); each hears both others there (envelope correlation on one wall
 * clock) and nothing in its own window (no self-echo: the others and the bot are silent then).
 * A fourth leg, dialled meanwhile, is never answered (Telnyx's signed no-answer status callback):
 * it leaves (`leg.left` to the web user, status `left` / `call_failed`) and the call goes on.
 *
 * KNOWN INTERMITTENT FAILURE (about 1 run in 4 on 2 shared cores): in a failing run one callee's
 * speech (seen: Plivo's) reaches BOTH other parties with 80-120 ms dropouts (r 0.25-0.45) while
 * every other pair is clean (r > 0.9): its audio is lost on the way into the mix, not on the way
 * out. The failure message lists every pair with its longest dropout and the simulators' logs.
 */

const edge = inject('edgeUrl');
const RATE = 16000;
const SPEAK_MS = 1600;
/** The callees' windows, by their own stream time; the web user's starts 7 s after both joined. */
const TELNYX_AT = 2000;
const PLIVO_AT = 4600;
const WEB_AFTER_JOINED = 7000;
const CALL_MS = 10_500;

let worker: MediaWorker;
beforeAll(async () => {
  worker = new MediaWorker(e2eWorkerConfig({ WORKER_ID: 'w-legs-three' }), silentListener, await createVadFactory(), createMetrics(), () => {});
  worker.start();
});
afterAll(async () => {
  await worker.drain(2000);
});

/** `speech` alone at `atMs` in `totalMs` of silence. */
const timeline = (speech: Int16Array, atMs: number, totalMs: number) => concat(silenceOf(atMs, RATE), speech, silenceOf(totalMs - atMs - SPEAK_MS, RATE));

describe('three legs: a web user and two phone legs through Telnyx and Plivo', { timeout: 40_000 }, () => {
  it('each hears both others, never itself; an unanswered leg leaves with call_failed and the others talk on', async () => {
    const web = await RtcTestClient.connect(edge);
    const sessionId = web.sessionUrl.split('/').at(-1)!;
    const tx = await dialLeg({ edge, sessionId, provider: 'telnyx', to: '+15550100011', apiBase: inject('telnyxApiBase') });
    const pv = await dialLeg({ edge, sessionId, provider: 'plivo', to: '+15550100022', apiBase: inject('plivoApiBase') });
    expect(tx.voiceUrl).toBe(`${edge}/telnyx/voice?leg=${tx.legId}`);
    expect(pv.statusUrl).toBe(`${edge}/plivo/status?leg=${pv.legId}`);

    const txSpeech = modulatedTone(SPEAK_MS, 440, RATE, 11);
    const pvSpeech = modulatedTone(SPEAK_MS, 700, RATE, 22);
    const webSpeech = modulatedTone(SPEAK_MS, 550, 48000, 33);
    const txAudio = timeline(txSpeech, TELNYX_AT, CALL_MS);
    const pvAudio = timeline(pvSpeech, PLIVO_AT, CALL_MS);
    const simLog: string[] = [];
    const onLog = (who: string) => (l: string) => simLog.push(`${Math.round(performance.now())} ${who}: ${l}`);
    const txCall = answerLeg(edge, tx, { audio: { samples: txAudio, sampleRate: RATE }, tailMs: 300, onLog: onLog('telnyx') });
    const pvCall = answerLeg(edge, pv, { audio: { samples: pvAudio, sampleRate: RATE }, tailMs: 300, onLog: onLog('plivo') });
    const joined = await web.waitForEvents('leg.joined', 2);
    expect(joined.map((e) => e['legId']).sort()).toEqual([tx.legId, pv.legId].sort());

    // A fourth leg rings and is never answered: the provider reports no-answer on its status URL.
    const unanswered = await dialLeg({ edge, sessionId, provider: 'telnyx', to: '+15550100033', apiBase: inject('telnyxApiBase') });
    const statusAnswer = await postUnanswered(edge, unanswered, 'no-answer');
    expect(statusAnswer.status).toBe(200);
    const left = await web.waitForEvents('leg.left', 1, 5000);
    expect(left[0]).toMatchObject({ legId: unanswered.legId });
    const failedAt = left[0]!.receivedAt;
    const st = await sessionStatus(edge, sessionId);
    expect(st.legs?.find((l) => l.legId === unanswered.legId)).toMatchObject({ state: 'left', reason: 'call_failed' });
    expect(st.legs?.filter((l) => l.state === 'joined').map((l) => l.legId).sort()).toEqual([sessionId, tx.legId, pv.legId].sort());

    // The web user speaks in its own window, after both callees have spoken.
    const lastJoined = Math.max(...joined.map((e) => e.receivedAt));
    await new Promise((r) => setTimeout(r, Math.max(0, lastJoined + WEB_AFTER_JOINED - performance.now())));
    const webStart = await web.play({ samples: webSpeech, sampleRate: 48000, channels: 1 });
    const [txR, pvR] = await Promise.all([txCall, pvCall]);
    for (const r of [txR, pvR]) {
      expect(r.connected).toBe(true);
      expect(r.protocolErrors).toEqual([]);
    }
    expect(txR.sessionId).toBe(tx.legId);
    // (Plivo's stream start carries no custom parameters the simulator reads back: no sessionId to compare.)
    await web.waitForEvents('leg.left', 3);

    const said: Record<string, Track> = {
      telnyx: saidBySim(txR, txAudio, RATE),
      plivo: saidBySim(pvR, pvAudio, RATE),
      web: { samples: webSpeech, rate: 48000, t0: webStart },
    };
    const heardBy: Record<string, Track> = { telnyx: heardBySim(txR), plivo: heardBySim(pvR), web: heardByWeb(web) };
    const windows: Record<string, [number, number]> = {
      telnyx: [txR.startedAt + TELNYX_AT, txR.startedAt + TELNYX_AT + SPEAK_MS],
      plivo: [pvR.startedAt + PLIVO_AT, pvR.startedAt + PLIVO_AT + SPEAK_MS],
      web: [webStart, webStart + SPEAK_MS],
    };
    // The windows do not overlap (with 500 ms to spare for the way through the worker), and all follow the unanswered leg's end.
    const order = Object.values(windows).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < order.length; i++) expect(order[i]![0] - order[i - 1]![1], 'speaking windows overlap').toBeGreaterThan(500);
    expect(failedAt, 'the unanswered leg left only after a callee spoke').toBeLessThan(order[0]![0]);

    const lines: string[] = [
      `plivo's stream started ${Math.round(pvR.startedAt - txR.startedAt)} ms after telnyx's; send lateness p99/max telnyx ${txR.sendLatenessMs.p99.toFixed(0)}/${txR.sendLatenessMs.max.toFixed(0)} ms, plivo ${pvR.sendLatenessMs.p99.toFixed(0)}/${pvR.sendLatenessMs.max.toFixed(0)} ms`,
    ];
    const failures: string[] = [];
    for (const speaker of Object.keys(said)) {
      const [from, to] = windows[speaker]!;
      for (const listener of Object.keys(said)) {
        const track = heardBy[listener]!;
        if (listener === speaker) {
          // Nobody else speaks in this window: whatever the speaker hears then would be itself.
          const self = rmsAt(track, from, to + 300);
          lines.push(`${speaker} hears itself: rms ${self.toFixed(4)}`);
          if (!(self < 0.01)) failures.push(`${speaker} hears its own speech (rms ${self.toFixed(4)})`);
          continue;
        }
        const h = heard(track, said[speaker]!, from, to);
        // Dropouts: silent 20 ms frames in what the listener heard of the speaker's window.
        const holes = longestSilence(track, from + h.lagMs + 40, to + h.lagMs - 40);
        const coveredTo = Math.round(track.t0 + (track.samples.length / track.rate) * 1000 - to);
        lines.push(`${speaker} -> ${listener}: r=${h.r.toFixed(2)} after ${h.lagMs} ms, longest dropout ${holes} ms, heard track ends ${coveredTo} ms after the window`);
        if (!(h.r > 0.6)) failures.push(`${listener} does not hear ${speaker} (r=${h.r.toFixed(2)})`);
        if (!(rmsAt(track, from + h.lagMs, to + h.lagMs) > 0.03)) failures.push(`${listener} hears ${speaker} too faintly`);
      }
    }
    console.log(`legs-three: ${lines.join('; ')}`);
    expect(failures, `${lines.join('\n')}\n${simLog.join('\n')}`).toEqual([]);
    await web.hangup();
  });
});
