import { createServer } from 'node:net';
import { startMediaWorker, type LocalWorker } from './media-worker.ts';

/** Most media workers `npm start` runs on one machine (WORKERS). */
export const MAX_WORKERS = 64;
/** Workers starting at once: each loads its handler and the VAD model, which on a small machine
 * is CPU-bound; more in parallel only makes each miss its health-check deadline. */
const START_CONCURRENCY = 4;

/** How many workers to run and where: checked before anything starts. */
export interface WorkerPlan {
  count: number;
  /** Health and metrics port of worker 0; worker i listens on basePort + i. */
  basePort: number;
  /** Each worker's RTC_PORT_MIN..RTC_PORT_MAX (a socket per call), or null when no range is configured. */
  rtcRanges: [number, number][] | null;
  /** Each worker's RTC_UDP_PORT (all its calls on one socket; 0: the OS picks), or null in range mode. */
  udpPorts: number[] | null;
}

/** npm start's first worker's WebRTC port when RTC_UDP_PORT is not set: worker i takes this + i. */
export const DEFAULT_UDP_PORT = 50_000;

export interface LocalWorkers {
  workers: LocalWorker[];
  /** Stops every worker (SIGTERM: each drains), resolving when all have exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

function wholeNumber(name: string, raw: string, min: number, max: number): number {
  const n = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  }
  return n;
}

/** WORKERS: unset or empty means 1. */
export function workerCount(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return 1;
  return wholeNumber('WORKERS', raw, 1, MAX_WORKERS);
}

/**
 * Splits min..max (inclusive) into `n` consecutive ranges whose sizes differ by at most one, so
 * workers on one host never bind the same WebRTC port. Every worker needs at least one port.
 */
export function splitPortRange(min: number, max: number, n: number): [number, number][] {
  const span = max - min + 1;
  if (span < n) throw new Error(`RTC_PORT_MIN..RTC_PORT_MAX (${min}-${max}) has ${span} port(s), fewer than WORKERS=${n}`);
  const size = Math.floor(span / n);
  const extra = span % n;
  const out: [number, number][] = [];
  let next = min;
  for (let i = 0; i < n; i++) {
    const len = size + (i < extra ? 1 : 0);
    out.push([next, next + len - 1]);
    next += len;
  }
  return out;
}

/**
 * The plan for WORKERS (1..64, default 1), WORKER_HTTP_PORT (the first worker's health port,
 * default 9090), and WebRTC's UDP ports: RTC_UDP_PORT (worker i on that port + i, default
 * 50000; 0: each on a port the OS picks), or RTC_PORT_MIN/RTC_PORT_MAX instead (a socket per
 * call, the range split evenly between the workers). Throws a message naming the bad setting.
 */
export function workerPlan(env: NodeJS.ProcessEnv | Record<string, string | undefined>): WorkerPlan {
  const count = workerCount(env['WORKERS']);
  const rawPort = env['WORKER_HTTP_PORT'];
  const basePort = rawPort === undefined || rawPort === '' ? 9090 : wholeNumber('WORKER_HTTP_PORT', rawPort, 1, 65535);
  if (basePort + count - 1 > 65535) {
    throw new Error(`WORKER_HTTP_PORT=${basePort} leaves no room for WORKERS=${count} consecutive ports (the last must be <= 65535)`);
  }
  const [rawMin, rawMax] = [env['RTC_PORT_MIN'] ?? '', env['RTC_PORT_MAX'] ?? ''];
  const rawUdp = env['RTC_UDP_PORT'] ?? '';
  if (rawMin === '' && rawMax === '') {
    const first = rawUdp === '' ? DEFAULT_UDP_PORT : wholeNumber('RTC_UDP_PORT', rawUdp, 0, 65535);
    if (first > 0 && first + count - 1 > 65535) throw new Error(`RTC_UDP_PORT=${first} leaves no room for WORKERS=${count} consecutive ports (the last must be <= 65535)`);
    return { count, basePort, rtcRanges: null, udpPorts: Array.from({ length: count }, (_, i) => (first === 0 ? 0 : first + i)) };
  }
  if (rawUdp !== '') throw new Error('RTC_UDP_PORT (one port per worker) and RTC_PORT_MIN/RTC_PORT_MAX (a port per call) exclude each other: set one');
  if (rawMin === '' || rawMax === '') throw new Error('RTC_PORT_MIN and RTC_PORT_MAX must be set together');
  const min = wholeNumber('RTC_PORT_MIN', rawMin, 1, 65535);
  const max = wholeNumber('RTC_PORT_MAX', rawMax, min, 65535);
  return { count, basePort, rtcRanges: splitPortRange(min, max, count), udpPorts: null };
}

/** Worker i of n's frame clock offset: the 20 ms period split evenly, ms (two decimals). */
export function frameClockOffset(i: number, n: number): number {
  return Math.round(((i % n) * 2000) / n) / 100;
}

/** The environment of worker `i` of a plan: its own health port, WebRTC port (or range) and WORKER_ID. */
export function workerEnv(plan: WorkerPlan, i: number, env: Record<string, string>): Record<string, string> {
  const rest = { ...env };
  delete rest['WORKERS'];
  const out: Record<string, string> = { ...rest, WORKER_HTTP_PORT: String(plan.basePort + i) };
  const range = plan.rtcRanges?.[i];
  if (range) [out['RTC_PORT_MIN'], out['RTC_PORT_MAX']] = [String(range[0]), String(range[1])];
  const udp = plan.udpPorts?.[i];
  if (udp !== undefined) out['RTC_UDP_PORT'] = String(udp);
  // Workers sharing the host's cores tick at phases spread over the 20 ms frame.
  if (plan.count > 1) out['FRAME_CLOCK_OFFSET_MS'] = String(frameClockOffset(i, plan.count));
  if (rest['WORKER_ID'] && plan.count > 1) out['WORKER_ID'] = `${rest['WORKER_ID']}-${i + 1}`;
  return out;
}

/**
 * Starts the plan's workers (`node media-worker/src/main.ts` each, health on 127.0.0.1 at
 * basePort + i), a few at a time, and resolves once every one answers /healthz. If any fails to
 * start, the others are stopped and the error names the failing worker.
 */
export async function startWorkers(plan: WorkerPlan, env: Record<string, string>, opts: { quiet?: boolean } = {}): Promise<LocalWorkers> {
  // A port already taken would let a worker's health wait succeed on someone else's answer.
  const ports = Array.from({ length: plan.count }, (_, i) => plan.basePort + i);
  const taken = (await Promise.all(ports.map(async (p) => ((await isFree(p)) ? null : p)))).filter((p) => p !== null);
  if (taken.length > 0) {
    throw new Error(`health port(s) ${taken.join(', ')} already in use on 127.0.0.1: choose another WORKER_HTTP_PORT (worker i listens on WORKER_HTTP_PORT + i)`);
  }
  const started: (LocalWorker | undefined)[] = new Array(plan.count);
  const failures: string[] = [];
  let next = 0;
  const lane = async () => {
    while (next < plan.count && failures.length === 0) {
      const i = next++;
      try {
        started[i] = await startMediaWorker({ env: workerEnv(plan, i, env), quiet: opts.quiet ?? false });
      } catch (err) {
        failures.push(`worker ${i + 1} of ${plan.count} (port ${plan.basePort + i}): ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(START_CONCURRENCY, plan.count) }, lane));
  const workers = started.filter((w): w is LocalWorker => w !== undefined);
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    await Promise.all(workers.map((w) => w.stop(signal)));
  };
  if (failures.length > 0) {
    await stop('SIGKILL');
    throw new Error(failures.join('\n'));
  }
  return { workers, stop };
}

/** True when nothing listens on 127.0.0.1:port right now. */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}
