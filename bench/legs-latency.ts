import { answerLeg, dialLeg } from '../test/support/legs-calls.ts';
import { concat, silenceOf, tone } from '../test/support/phone-audio.ts';
import { RtcTestClient } from '../test/support/rtc-client.ts';
import { heardBySim, heardByWeb, type Track } from '../test/support/wall-audio.ts';
import { percentile } from './stack/percentiles.ts';

/**
 * Mouth-to-ear latency through a worker's conference, web -> phone and phone -> web: a web user
 * (werift, Opus 48 kHz) and a phone leg it dials (the simulator, Twilio mu-law 8 kHz) each send
 * sharp 1 kHz tone bursts at known wall times (the handler is silent and nobody hears themselves,
 * so each side hears only the other's bursts); each burst's onset is found, to the sample, in what
 * the other side heard on the same wall clock (the simulator's stream time + `startedAt`; the
 * web client's packets at their arrival times). The simulator sends each 20 ms frame once its
 * audio has elapsed (its packetisation counts); the web client sends a frame as it starts, so a
 * burst starting on a frame boundary leaves at once (a browser would add up to 20 ms).
 */
export interface LegsLatency {
  bursts: number;
  /** ms, p50 / p95 of every burst found; `lost`: bursts not heard within 600 ms. */
  webToPhone: { p50: number; p95: number; lost: number };
  phoneToWeb: { p50: number; p95: number; lost: number };
  /** p50 minus the jitter-buffer target of the leg the audio enters by (web 20 ms, phone 40 ms): what the rest of the path adds. */
  beyondJitterTargetP50: { webToPhone: number; phoneToWeb: number };
}

/** The conference's jitter-buffer targets (media-worker/src/sessions/session-legs.ts): a WebRTC leg's, and a phone leg's (the default). */
export const JITTER_TARGET_MS = { web: 20, phone: 40 } as const;
const BURST_MS = 100;
const EVERY_MS = 700;
const PHONE_FIRST_MS = 1500;
const WEB_FIRST_MS = 1000;

/** Silence with 100 ms 1 kHz bursts at `first`, `first + 700`, ... */
function burstTrain(rate: number, first: number, n: number, totalMs: number): Int16Array {
  const parts: Int16Array[] = [silenceOf(first, rate)];
  for (let i = 0; i < n; i++) parts.push(tone(BURST_MS, 1000, rate, 0.5), silenceOf(EVERY_MS - BURST_MS, rate));
  const used = first + n * EVERY_MS;
  parts.push(silenceOf(Math.max(0, totalMs - used), rate));
  return concat(...parts);
}

/** The wall time of the first sample above 0.1 of full scale in [from, from + withinMs), or NaN. */
function onsetAfter(t: Track, from: number, withinMs = 600): number {
  const a = Math.max(0, Math.round(((from - t.t0) * t.rate) / 1000));
  const b = Math.min(t.samples.length, a + Math.round((withinMs * t.rate) / 1000));
  for (let i = a; i < b; i++) if (Math.abs(t.samples[i]!) > 3277) return t.t0 + (i * 1000) / t.rate;
  return Number.NaN;
}

/** One call: bursts both ways; the delay of each, ms (NaN: not heard). */
async function oneCall(edgeUrl: string, apiBase: string, authToken: string, bursts: number): Promise<{ webToPhone: number[]; phoneToWeb: number[] }> {
  const web = await RtcTestClient.connect(edgeUrl);
  try {
    const sessionId = web.sessionUrl.split('/').at(-1)!;
    const leg = await dialLeg({ edge: edgeUrl, sessionId, provider: 'twilio', to: '+15550109999', apiBase });
    const phoneMs = PHONE_FIRST_MS + bursts * EVERY_MS + 3000;
    const phoneAudio = burstTrain(8000, PHONE_FIRST_MS, bursts, phoneMs);
    const call = answerLeg(edgeUrl, leg, { authToken, audio: { samples: phoneAudio, sampleRate: 8000 }, tailMs: 200 });
    await web.waitForEvents('leg.joined', 1);
    const webAudio = burstTrain(48000, WEB_FIRST_MS, bursts, WEB_FIRST_MS + bursts * EVERY_MS);
    const webStart = await web.play({ samples: webAudio, sampleRate: 48000, channels: 1 });
    const r = await call;
    const phoneHeard = heardBySim(r);
    const webHeard = heardByWeb(web);
    const webToPhone: number[] = [];
    const phoneToWeb: number[] = [];
    for (let i = 0; i < bursts; i++) {
      const sentWeb = webStart + WEB_FIRST_MS + i * EVERY_MS;
      webToPhone.push(onsetAfter(phoneHeard, sentWeb) - sentWeb);
      const sentPhone = r.startedAt + PHONE_FIRST_MS + i * EVERY_MS;
      phoneToWeb.push(onsetAfter(webHeard, sentPhone) - sentPhone);
    }
    return { webToPhone, phoneToWeb };
  } finally {
    await web.hangup().catch(() => 0);
  }
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const stats = (xs: number[]) => {
  const ok = xs.filter(Number.isFinite);
  return { p50: r1(percentile(ok, 50)), p95: r1(percentile(ok, 95)), lost: xs.length - ok.length };
};

export async function measureLegsLatency(edgeUrl: string, apiBase: string, authToken: string, calls: number, bursts: number): Promise<LegsLatency> {
  const all = { webToPhone: [] as number[], phoneToWeb: [] as number[] };
  for (let i = 0; i < calls; i++) {
    const one = await oneCall(edgeUrl, apiBase, authToken, bursts);
    all.webToPhone.push(...one.webToPhone);
    all.phoneToWeb.push(...one.phoneToWeb);
  }
  const webToPhone = stats(all.webToPhone);
  const phoneToWeb = stats(all.phoneToWeb);
  return {
    bursts: all.webToPhone.length,
    webToPhone,
    phoneToWeb,
    beyondJitterTargetP50: { webToPhone: r1(webToPhone.p50 - JITTER_TARGET_MS.web), phoneToWeb: r1(phoneToWeb.p50 - JITTER_TARGET_MS.phone) },
  };
}
