import { randomBytes } from 'node:crypto';
import { simulateCall, type SimulateCallOptions } from '../scripts/phone/caller.ts';
import { answerLeg, dialLeg, sessionStatus } from '../test/support/legs-calls.ts';
import { modulatedTone } from '../test/support/wall-audio.ts';
import { cpuWindow } from './media/proc-cpu.ts';

/**
 * Worker CPU of a conference against as many plain calls: N simulated phone calls streaming audio
 * (everyone talking at once, the mixer's worst case) either joined in one session (an inbound
 * Twilio call, the primary, plus N-1 legs it dials through the fake Twilio API) or as N one-caller
 * sessions. The worker process's CPU (/proc, as the other sections read it) is taken over a fixed
 * window once every call is live, after a warm-up, and divided by N.
 */
export interface LegsCpuRow {
  parties: number;
  /** Worker CPU per party over the window, % of one core (= CPU ms per second). */
  conferencePctPerParty: number;
  plainPctPerParty: number;
  /** conference / plain: what joining the calls in one mix costs on top of serving them. */
  ratio: number;
}

export interface LegsCpuTarget {
  edgeUrl: string;
  apiBase: string;
  authToken: string;
  workerPid: number;
  warmupMs: number;
  windowMs: number;
}

const RATE = 8000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function poll(what: string, cond: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > end) throw new Error(`legs bench: ${what} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** The window's worker CPU in % of one core, divided by `parties`. */
async function measure(t: LegsCpuTarget, parties: number): Promise<number> {
  await sleep(t.warmupMs);
  const w = cpuWindow({ worker: t.workerPid });
  await sleep(t.windowMs);
  return (w.stop().pct['worker'] ?? Number.NaN) / parties;
}

/** A call that talks (a distinct loudness contour per seed) until `signal` aborts. */
function callOptions(t: LegsCpuTarget, seed: number, signal: AbortSignal): Omit<SimulateCallOptions, 'baseUrl'> {
  return { authToken: t.authToken, audio: { samples: modulatedTone(120_000, 300 + 50 * (seed % 10), RATE, seed), sampleRate: RATE }, signal, maxHoldMs: 20_000 };
}

export async function conferenceCpu(t: LegsCpuTarget, parties: number): Promise<number> {
  const abort = new AbortController();
  const callSid = `CA${randomBytes(16).toString('hex')}`;
  const sessionId = `c_${callSid}`;
  const calls: Promise<unknown>[] = [simulateCall({ baseUrl: t.edgeUrl, callSid, ...callOptions(t, 1, abort.signal) }).catch(() => null)];
  try {
    await poll('the primary call live', async () => (await sessionStatus(t.edgeUrl, sessionId)).state === 'live');
    for (let i = 1; i < parties; i++) {
      const leg = await dialLeg({ edge: t.edgeUrl, sessionId, provider: 'twilio', to: `+1555010${String(1000 + i)}`, apiBase: t.apiBase });
      calls.push(answerLeg(t.edgeUrl, leg, callOptions(t, i + 1, abort.signal)).catch(() => null));
    }
    await poll(`${parties - 1} legs joined`, async () => ((await sessionStatus(t.edgeUrl, sessionId)).legs ?? []).filter((l) => l.state === 'joined').length === parties);
    return await measure(t, parties);
  } finally {
    abort.abort(new Error('window over'));
    await Promise.all(calls);
    await sleep(1000);
  }
}

export async function plainCpu(t: LegsCpuTarget, parties: number): Promise<number> {
  const abort = new AbortController();
  const sids = Array.from({ length: parties }, () => `CA${randomBytes(16).toString('hex')}`);
  const calls = sids.map((callSid, i) => simulateCall({ baseUrl: t.edgeUrl, callSid, ...callOptions(t, i + 1, abort.signal) }).catch(() => null));
  try {
    await poll(`${parties} calls live`, async () => (await Promise.all(sids.map((s) => sessionStatus(t.edgeUrl, `c_${s}`)))).every((s) => s.state === 'live'));
    return await measure(t, parties);
  } finally {
    abort.abort(new Error('window over'));
    await Promise.all(calls);
    await sleep(1000);
  }
}

const r1 = (x: number) => Math.round(x * 10) / 10;

/** Each size `rounds` times, conference and plain side by side in each round; medians. */
export async function measureLegsCpu(t: LegsCpuTarget, sizes: number[], rounds: number): Promise<LegsCpuRow[]> {
  const rows: LegsCpuRow[] = [];
  for (const n of sizes) {
    const conf: number[] = [];
    const plain: number[] = [];
    for (let i = 0; i < rounds; i++) {
      conf.push(await conferenceCpu(t, n));
      plain.push(await plainCpu(t, n));
    }
    const c = median(conf);
    const p = median(plain);
    rows.push({ parties: n, conferencePctPerParty: r1(c), plainPctPerParty: r1(p), ratio: Math.round((c / p) * 100) / 100 });
  }
  return rows;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
