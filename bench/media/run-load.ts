import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { LoadProcessConfig, LoadProcessResult } from './load-process.ts';
import { summarise, type LoadSummary } from './load-summary.ts';
import type { SignalingConfig } from './signaling.ts';

const LOAD_PROCESS = fileURLToPath(new URL('./load-process.ts', import.meta.url));

export interface RunLoadOptions {
  signaling: SignalingConfig;
  /** Concurrent echo sessions in all. */
  sessions: number;
  /** Load processes (sessions split evenly among them). */
  processes: number;
  warmupMs: number;
  windowMs: number;
  /** Connection attempts in flight at once, over all processes (default 5). */
  connectConcurrency?: number;
  dataChannel?: boolean;
  /** Every process has finished connecting (before the warm-up). */
  onReady?(info: { connected: number; failed: number; pids: number[] }): void | Promise<void>;
  /** Called at the shared window start / end instants: sample the server's /proc CPU here. */
  onWindowStart?(): void;
  onWindowEnd?(): void;
  /** Child stderr lines (default: dropped, kept for error messages). */
  log?(line: string): void;
}

export interface LoadResult extends LoadSummary {
  signaling: SignalingConfig;
  /** Wall-clock window (epoch ms) and how far the processes' own window starts were from it (ms). */
  window: { startAt: number; endAt: number; startSkewMs: number };
  perProcess: { pid: number; peers: number; connected: number; clockP99Ms: number; cpuPct: number; lossPct: number }[];
}

interface Child {
  proc: ChildProcess;
  ready: Promise<{ connected: number; failed: number }>;
  result: Promise<LoadProcessResult>;
  windowStarts: number[];
  stderr: string[];
}

const KILL_GRACE_MS = 5000;

function startChild(config: LoadProcessConfig, log: ((line: string) => void) | undefined): Child {
  const proc = spawn(process.execPath, [LOAD_PROCESS, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  const windowStarts: number[] = [];
  createInterface({ input: proc.stderr! }).on('line', (l) => {
    stderr.push(l);
    if (stderr.length > 50) stderr.shift();
    log?.(`[load ${proc.pid}] ${l}`);
  });
  let onReady: (v: { connected: number; failed: number }) => void = () => {};
  let onResult: (v: LoadProcessResult) => void = () => {};
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const failure = (what: string) => exited.then((code) => Promise.reject(new Error(`load process ${proc.pid} exited (${code}) ${what}:\n${stderr.join('\n')}`)));
  const ready = Promise.race([new Promise<{ connected: number; failed: number }>((r) => (onReady = r)), failure('before ready')]);
  const result = Promise.race([new Promise<LoadProcessResult>((r) => (onResult = r)), failure('without a result')]);
  ready.catch(() => {});
  result.catch(() => {});
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    if (l.startsWith('{')) onResult(JSON.parse(l) as LoadProcessResult);
    else if (l.startsWith('ready ')) {
      const [, c, f] = l.split(' ');
      onReady({ connected: Number(c), failed: Number(f) });
    } else if (l.startsWith('window-start ')) windowStarts.push(Number(l.slice(13)));
  });
  return { proc, ready, result, windowStarts, stderr };
}

/** Stops a child that is still running: SIGTERM (it hangs up its peers), SIGKILL after a grace period. */
async function stopChild(c: Child): Promise<void> {
  const p = c.proc;
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), KILL_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

const sleepUntilEpoch = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));

/**
 * Runs `sessions` echo sessions from `processes` load processes (each with its own 20 ms clock)
 * against one server: all connect, then one shared warm-up and window (their windows start at
 * the same wall-clock instant), then all hang up. onWindowStart/onWindowEnd fire at the window's
 * start and end, for sampling the server's CPU exactly over it. Every child is stopped before
 * this returns or throws.
 */
export async function runLoad(opts: RunLoadOptions): Promise<LoadResult> {
  const n = Math.max(1, Math.min(opts.processes, opts.sessions || 1));
  const concurrency = Math.max(1, Math.ceil((opts.connectConcurrency ?? 5) / n));
  const children: Child[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const peers = Math.floor(opts.sessions / n) + (i < opts.sessions % n ? 1 : 0);
      const config: LoadProcessConfig = {
        signaling: opts.signaling,
        peers,
        connectConcurrency: concurrency,
        warmupMs: opts.warmupMs,
        windowMs: opts.windowMs,
        waitForStart: true,
        ...(opts.dataChannel !== undefined ? { dataChannel: opts.dataChannel } : {}),
      };
      children.push(startChild(config, opts.log));
    }
    const ready = await Promise.all(children.map((c) => c.ready));
    await opts.onReady?.({
      connected: ready.reduce((a, r) => a + r.connected, 0),
      failed: ready.reduce((a, r) => a + r.failed, 0),
      pids: children.map((c) => c.proc.pid!),
    });
    const startAt = Date.now() + opts.warmupMs;
    const endAt = startAt + opts.windowMs;
    for (const c of children) c.proc.stdin!.write(`start ${startAt}\n`);
    await sleepUntilEpoch(startAt);
    opts.onWindowStart?.();
    await sleepUntilEpoch(endAt);
    opts.onWindowEnd?.();
    const results = await Promise.all(children.map((c) => c.result));
    const summary = summarise(results.map((r) => r.part));
    const starts = children.flatMap((c) => c.windowStarts);
    return {
      ...summary,
      signaling: opts.signaling,
      window: { startAt, endAt, startSkewMs: starts.length ? Math.max(...starts.map((s) => Math.abs(s - startAt))) : NaN },
      perProcess: results.map((r) => ({
        pid: r.pid,
        peers: r.sessions,
        connected: r.connected,
        clockP99Ms: r.loadGen.clockLatenessMs.p99,
        cpuPct: r.loadGen.cpuPct,
        lossPct: r.lossPct,
      })),
    };
  } finally {
    await Promise.all(children.map((c) => stopChild(c)));
  }
}
