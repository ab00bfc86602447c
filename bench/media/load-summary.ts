/**
 * The figures of a load run, and how per-process parts merge into one (pure: tested in
 * test/bench-media-stats.test.ts). A load process prints its summary plus the mergeable raw
 * data (`parts`); runLoad merges the parts of all processes and summarises again.
 */
import { fromSparse, mergeHistograms, percentileOf, quantiles, round1, toSparse, type Quantiles, type SparseHistogram } from './stats.ts';
import type { PeerWindowStats } from './load-peer.ts';

/** Above this p99 wake-up lateness of its own clock, a load process counts as overloaded. */
export const CLOCK_P99_LIMIT_MS = 2;

export interface SetupFailure {
  reason: string;
  count: number;
}

/** What one load process measured, in mergeable form. */
export interface LoadPart {
  pid: number;
  peersRequested: number;
  connected: number;
  setupFailures: SetupFailure[];
  /** Window length actually measured (ms). */
  windowMs: number;
  sent: number;
  received: number;
  expected: number;
  lost: number;
  outOfOrder: number;
  mediaGapFrames: number;
  /** Peers whose connection dropped before hangup. */
  dropped: number;
  /** Peers that received nothing in the window. */
  silentPeers: number;
  lateness: SparseHistogram;
  /** Per peer: RFC 3550 jitter at the end of the window, and its maximum in it (ms). */
  jitterMs: number[];
  jitterMaxMs: number[];
  /** Per peer: signaling round trip and time to connected (ms). */
  answerMs: number[];
  connectMs: number[];
  clock: { lateness: SparseHistogram; ticks: number; skipped: number };
  /** CPU time of the load process over the window (ms, user + system). */
  cpuMs: number;
  hangupErrors: number;
}

export interface LoadSummary {
  sessions: number;
  connected: number;
  setupFailures: SetupFailure[];
  windowMs: number;
  sent: number;
  received: number;
  lost: number;
  /** lost / expected, in percent. */
  lossPct: number;
  /** received / sent, in percent (an echo returns every packet; the window edges cost ~latency/20 ms packets per peer). */
  receivedPct: number;
  outOfOrder: number;
  /** 20 ms frames missing from the echo's RTP timeline with no sequence gap (see PeerWindowStats), and their share of the timeline. */
  mediaGapFrames: number;
  mediaGapPct: number;
  droppedPeers: number;
  silentPeers: number;
  /** Received packets' lateness vs the server's own RTP schedule, min-normalised per peer (ms). */
  latenessMs: Quantiles;
  /** RFC 3550 jitter: p50 over peers of the end-of-window value, max over peers of the in-window maximum (ms). */
  jitterMs: { p50: number; max: number };
  answerMs: { p50: number; max: number };
  connectMs: { p50: number; max: number };
  loadGen: {
    processes: number;
    /** Own 20 ms clock wake-up lateness, all processes merged (ms). */
    clockLatenessMs: Quantiles;
    /** Worst process's p99. */
    worstClockP99Ms: number;
    skippedTicks: number;
    /** CPU of all load processes over the window, % of one core, and per connected peer. */
    cpuPct: number;
    cpuPctPerPeer: number;
    /** A process's clock p99 exceeded CLOCK_P99_LIMIT_MS: the generator, not the server, may be the bottleneck. */
    overloaded: boolean;
  };
}

export function partFromPeers(args: {
  pid: number;
  peersRequested: number;
  setupFailures: SetupFailure[];
  windowMs: number;
  peers: readonly (PeerWindowStats & { answerMs: number; connectMs: number })[];
  clock: { lateness: SparseHistogram; ticks: number; skipped: number };
  cpuMs: number;
  hangupErrors: number;
}): LoadPart {
  const { peers } = args;
  const sum = (f: (p: PeerWindowStats) => number) => peers.reduce((a, p) => a + f(p), 0);
  return {
    pid: args.pid,
    peersRequested: args.peersRequested,
    connected: peers.length,
    setupFailures: args.setupFailures,
    windowMs: args.windowMs,
    sent: sum((p) => p.sent),
    received: sum((p) => p.received),
    expected: sum((p) => p.expected),
    lost: sum((p) => p.lost),
    outOfOrder: sum((p) => p.outOfOrder),
    mediaGapFrames: sum((p) => p.mediaGapFrames),
    dropped: peers.filter((p) => p.dropped !== null).length,
    silentPeers: peers.filter((p) => p.received === 0).length,
    lateness: toSparse(mergeHistograms(peers.map((p) => p.lateness))),
    jitterMs: peers.map((p) => round3(p.jitterMs)),
    jitterMaxMs: peers.map((p) => round3(p.jitterMaxMs)),
    answerMs: peers.map((p) => round1(p.answerMs)),
    connectMs: peers.map((p) => round1(p.connectMs)),
    clock: args.clock,
    cpuMs: args.cpuMs,
    hangupErrors: args.hangupErrors,
  };
}

/** Adds up failures with the same reason. */
export function mergeFailures(lists: readonly SetupFailure[][]): SetupFailure[] {
  const byReason = new Map<string, number>();
  for (const list of lists) for (const f of list) byReason.set(f.reason, (byReason.get(f.reason) ?? 0) + f.count);
  return [...byReason].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count);
}

export function summarise(parts: readonly LoadPart[]): LoadSummary {
  const sum = (f: (p: LoadPart) => number) => parts.reduce((a, p) => a + f(p), 0);
  const all = <T>(f: (p: LoadPart) => T[]) => parts.flatMap(f);
  const connected = sum((p) => p.connected);
  const expected = sum((p) => p.expected);
  const lost = sum((p) => p.lost);
  const sent = sum((p) => p.sent);
  const received = sum((p) => p.received);
  const gaps = sum((p) => p.mediaGapFrames);
  const windowMs = parts.length ? maxOf(parts.map((p) => p.windowMs)) : 0;
  const cpuPct = windowMs > 0 ? (sum((p) => p.cpuMs) / windowMs) * 100 : NaN;
  const worstClockP99Ms = maxOf(parts.map((p) => quantiles(fromSparse(p.clock.lateness)).p99).filter((x) => Number.isFinite(x)));
  const p50max = (xs: number[]) => ({ p50: round1(percentileOf(xs, 50)), max: round1(maxOf(xs)) });
  return {
    sessions: sum((p) => p.peersRequested),
    connected,
    setupFailures: mergeFailures(parts.map((p) => p.setupFailures)),
    windowMs,
    sent,
    received,
    lost,
    lossPct: expected > 0 ? round3((lost / expected) * 100) : NaN,
    receivedPct: sent > 0 ? round3((received / sent) * 100) : NaN,
    outOfOrder: sum((p) => p.outOfOrder),
    mediaGapFrames: gaps,
    mediaGapPct: received + gaps > 0 ? round3((gaps / (received + gaps)) * 100) : NaN,
    droppedPeers: sum((p) => p.dropped),
    silentPeers: sum((p) => p.silentPeers),
    latenessMs: quantiles(mergeHistograms(parts.map((p) => fromSparse(p.lateness)))),
    jitterMs: { p50: round3(percentileOf(all((p) => p.jitterMs), 50)), max: round3(maxOf(all((p) => p.jitterMaxMs))) },
    answerMs: p50max(all((p) => p.answerMs)),
    connectMs: p50max(all((p) => p.connectMs)),
    loadGen: {
      processes: parts.length,
      clockLatenessMs: quantiles(mergeHistograms(parts.map((p) => fromSparse(p.clock.lateness)))),
      worstClockP99Ms,
      skippedTicks: sum((p) => p.clock.skipped),
      cpuPct: round1(cpuPct),
      cpuPctPerPeer: connected > 0 ? round3(cpuPct / connected) : NaN,
      overloaded: worstClockP99Ms > CLOCK_P99_LIMIT_MS,
    },
  };
}

/** Largest value, NaN for none. */
function maxOf(xs: readonly number[]): number {
  let m = NaN;
  for (const x of xs) if (Number.isNaN(m) || x > m) m = x;
  return m;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
