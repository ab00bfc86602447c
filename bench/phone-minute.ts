import { simulateCall, type CallResult } from '../scripts/phone/caller.ts';
import type { Provider } from '../scripts/phone/providers/types.ts';
import { cpuWindow } from './media/proc-cpu.ts';
import { conversation } from './phone-minute-conversation.ts';
import { ASSUME, costPer1000Minutes, type MinuteUsage } from './phone-minute-prices.ts';
import { diffCounts, startCountingProxy, type CountingProxy, type Counts } from './phone-minute-proxy.ts';

/**
 * `minute`: what one phone call-minute costs. `calls` calls at once per provider, each a
 * `durationMs` conversation (phone-minute-conversation.ts) with the phone-tone handler, through
 * the whole stack. The simulators and the worker reach the edge through a counting proxy
 * (phone-minute-proxy.ts): WebSocket messages into the edge (provider -> edge, worker -> edge) and
 * the worker's bytes are counted there, the edge untouched. CPU of workerd and of the worker comes
 * from /proc, their idle rate (measured just before) subtracted.
 *
 * Two windows: the steady one (every call's stream open, from 1 s after the last opened to the
 * first one's hang-up time) gives CPU per call-minute; the whole one (first webhook -> last
 * hang-up) gives messages and bytes per minute of stream, and, less the steady CPU rates over the
 * streams' minutes, a call's one-off CPU (webhooks, set-up, hang-up), which the cost spreads over
 * ASSUME.callMinutes, and its requests' wall time at the edge (the proxy times each request and
 * handshake), which the duration model counts as the session object's active time.
 */
export interface MinuteParams {
  providers: Provider[];
  calls: number;
  durationMs: number;
  staggerMs: number;
  /** Idle measurement before each provider's calls. */
  idleMs: number;
}

export interface MinuteDeps {
  edgeUrl: string;
  /** What the edge signs provider webhooks against (its PUBLIC_BASE_URL). */
  publicBaseUrl: string;
  edgePid: number;
  handlerPath: string;
  /** Runs `fn` with one media worker started with `env` (its PUBLIC_BASE_URL: the proxy). */
  withWorker<T>(env: Record<string, string>, fn: (workerPid: number) => Promise<T>): Promise<T>;
}

/** Per call-minute in the steady window (CPU idle-subtracted). */
export interface PerMinute {
  edgeCpuMs: number;
  workerCpuMs: number;
  providerIn: number;
  providerOut: number;
  mediaIn: number;
  mediaOut: number;
  controlIn: number;
  controlOut: number;
  /** worker -> edge, media + control sockets: WebSocket payload, frames, and frames + TLS/TCP/IP overhead. */
  workerPayloadBytes: number;
  workerFrameBytes: number;
  workerWireBytes: number;
}

export interface MinuteRun {
  provider: Provider;
  calls: number;
  durationMs: number;
  turnsPerCall: number;
  idlePct: { worker: number; edge: number };
  steady: { wallMs: number; callMinutes: number; streamMinutes: number; machineBusyPct: number; otherPct: number; workerPct: number; edgePct: number };
  perMinute: PerMinute;
  perCall: MinuteUsage['perCall'];
  /** From the simulators, per call-minute of stream: media frames the caller sent, marks it echoed, reply frames it heard. */
  caller: { framesSent: number; marksEchoed: number; framesHeard: number; turnsHeard: number };
  usage: MinuteUsage;
  cost: ReturnType<typeof costPer1000Minutes>;
  failures: string[];
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runMinuteSection(d: MinuteDeps, p: MinuteParams): Promise<MinuteRun[]> {
  const proxy = await startCountingProxy(d.edgeUrl);
  try {
    return await d.withWorker({ HANDLER: d.handlerPath, PUBLIC_BASE_URL: proxy.url, MAX_SESSIONS: String(Math.max(20, p.calls + 2)) }, async (workerPid) => {
      const pids = { worker: workerPid, edge: d.edgePid };
      // Warm-up: the worker's first call loads the VAD model and JIT-compiles the media path.
      await call(d, proxy, p.providers[0] ?? 'twilio', 8000).catch(() => undefined);
      const runs: MinuteRun[] = [];
      for (const provider of p.providers) runs.push(await runProvider(d, p, proxy, pids, provider));
      return runs;
    });
  } finally {
    await proxy.stop();
  }
}

function call(d: MinuteDeps, proxy: CountingProxy, provider: Provider, durationMs: number): Promise<CallResult> {
  const conv = conversation(durationMs);
  return simulateCall({ baseUrl: proxy.url, publicBaseUrl: d.publicBaseUrl, provider, audio: { samples: conv.samples, sampleRate: conv.sampleRate }, hangupAtMs: durationMs });
}

async function runProvider(d: MinuteDeps, p: MinuteParams, proxy: CountingProxy, pids: { worker: number; edge: number }, provider: Provider): Promise<MinuteRun> {
  const idle = cpuWindow(pids);
  await sleep(p.idleMs);
  const i = idle.stop();
  const idleMsPerMs = { worker: i.cpuMs['worker']! / i.wallMs, edge: i.cpuMs['edge']! / i.wallMs };

  const streamsBefore = proxy.providerStreamMs().length;
  const whole = cpuWindow(pids);
  const c0 = proxy.snapshot();
  const failures: string[] = [];
  const calls = Array.from({ length: p.calls }, async (_, k) => {
    await sleep(k * p.staggerMs);
    try {
      const r = await call(d, proxy, provider, p.durationMs);
      if (!r.connected) failures.push(`call ${k}: did not connect`);
      for (const e of r.protocolErrors) failures.push(`call ${k}: ${e}`);
      return r;
    } catch (err) {
      failures.push(`call ${k}: ${(err as Error).message}`);
      return undefined;
    }
  });
  const steady = await steadyWindow(proxy, pids, p);
  const results = (await Promise.all(calls)).filter((r): r is CallResult => r !== undefined);
  const w = whole.stop();
  const wholeCounts = diffCounts(proxy.snapshot(), c0);
  if (!steady) throw new Error(`minute (${provider}): never had ${p.calls} streams open at once; failures: ${failures.join('; ') || 'none'}`);

  // CPU rates from the steady window; messages and bytes (no idle part) from the whole one over
  // every stream's minutes, so that each call's full pattern of turns counts, with its opening and
  // closing messages (a handful per call, spread over its minutes).
  const s = steady.cpu;
  const minutes = (p.calls * s.wallMs) / 60_000;
  const cpuMinusIdle = (cpu: Record<string, number>, wallMs: number, k: 'worker' | 'edge') => cpu[k]! - idleMsPerMs[k] * wallMs;
  const streamMinutes = proxy.providerStreamMs().slice(streamsBefore).reduce((a, b) => a + b, 0) / 60_000;
  const perMinute = usagePerMinute(wholeCounts, streamMinutes, cpuMinusIdle(s.cpuMs, s.wallMs, 'edge') / minutes, cpuMinusIdle(s.cpuMs, s.wallMs, 'worker') / minutes);

  // A call's one-off CPU: the whole window's, less the steady rates over every stream's minutes.
  const once = (total: number, rate: number) => r1((total - rate * streamMinutes) / p.calls);
  const perCall = {
    httpRequests: r1(wholeCounts.httpRequests / p.calls),
    edgeCpuMs: once(cpuMinusIdle(w.cpuMs, w.wallMs, 'edge'), perMinute.edgeCpuMs),
    workerCpuMs: once(cpuMinusIdle(w.cpuMs, w.wallMs, 'worker'), perMinute.workerCpuMs),
    requestWallMs: r1(wholeCounts.httpWallMs / p.calls),
  };
  const usage: MinuteUsage = {
    edgeCpuMs: perMinute.edgeCpuMs,
    workerCpuMs: perMinute.workerCpuMs,
    providerMessagesIn: perMinute.providerIn,
    workerMessagesIn: perMinute.mediaIn + perMinute.controlIn,
    workerBytesOut: perMinute.workerWireBytes,
    perCall,
  };
  const callerMinutes = results.reduce((a, r) => a + r.sentFrames * 20, 0) / 60_000;
  const perCallerMinute = (x: number) => r1(x / Math.max(callerMinutes, 1e-9));
  return {
    provider,
    calls: p.calls,
    durationMs: p.durationMs,
    turnsPerCall: conversation(p.durationMs).turns,
    idlePct: { worker: r1(idleMsPerMs.worker * 100), edge: r1(idleMsPerMs.edge * 100) },
    steady: { wallMs: s.wallMs, callMinutes: r1(minutes * 100) / 100, streamMinutes: r1(streamMinutes * 100) / 100, machineBusyPct: s.machineBusyPct, otherPct: s.otherPct, workerPct: s.pct['worker']!, edgePct: s.pct['edge']! },
    perMinute,
    perCall,
    caller: {
      framesSent: perCallerMinute(results.reduce((a, r) => a + r.sentFrames, 0)),
      marksEchoed: perCallerMinute(results.reduce((a, r) => a + r.marksEchoed, 0)),
      framesHeard: perCallerMinute(results.reduce((a, r) => a + r.received.reduce((n, f) => n + (f.frames ?? 0), 0), 0)),
      turnsHeard: perCallerMinute(results.reduce((a, r) => a + r.turns.filter((t) => Number.isFinite(t.latencyMs)).length, 0)),
    },
    usage,
    cost: costPer1000Minutes(usage),
    failures,
  };
}

/** Counts over `minutes` of streams, per minute; CPU already per minute. */
function usagePerMinute(c: Counts, minutes: number, edgeCpuMs: number, workerCpuMs: number): PerMinute {
  const m = (x: number) => r1(x / minutes);
  const workerMessages = c.media.in.messages + c.control.in.messages;
  const workerFrameBytes = c.media.in.frameBytes + c.control.in.frameBytes;
  return {
    edgeCpuMs: r1(edgeCpuMs),
    workerCpuMs: r1(workerCpuMs),
    providerIn: m(c.provider.in.messages),
    providerOut: m(c.provider.out.messages),
    mediaIn: m(c.media.in.messages),
    mediaOut: m(c.media.out.messages),
    controlIn: m(c.control.in.messages),
    controlOut: m(c.control.out.messages),
    workerPayloadBytes: m(c.media.in.payloadBytes + c.control.in.payloadBytes),
    workerFrameBytes: m(workerFrameBytes),
    workerWireBytes: m(workerFrameBytes + workerMessages * ASSUME.wireOverheadBytes),
  };
}

/**
 * Waits until all `calls` streams are open, then 1 s more (set-up done), and measures until the
 * first stream's hang-up is due (or any stream closes). Undefined when they were never all open.
 */
async function steadyWindow(proxy: CountingProxy, pids: Record<string, number>, p: MinuteParams): Promise<{ cpu: ReturnType<ReturnType<typeof cpuWindow>['stop']>; counts: Counts } | undefined> {
  const deadline = performance.now() + p.calls * p.staggerMs + p.durationMs + 20_000;
  while (proxy.openProviderStreams().length < p.calls) {
    if (performance.now() > deadline) return undefined;
    await sleep(50);
  }
  const firstOpen = Math.min(...proxy.openProviderStreams());
  await sleep(1000);
  const end = firstOpen + p.durationMs - 500;
  if (performance.now() >= end) return undefined;
  const cpu = cpuWindow(pids);
  const c0 = proxy.snapshot();
  while (performance.now() < end && proxy.openProviderStreams().length === p.calls) await sleep(20);
  return { cpu: cpu.stop(), counts: diffCounts(proxy.snapshot(), c0) };
}
