/**
 * One load-generator process: `node bench/media/load-process.ts '<json config>'` (or the config as
 * the first line on stdin). It connects `peers` werift peers (at most `connectConcurrency` at a
 * time; failures are collected with their reasons), sends the pre-encoded speech every 20 ms from
 * the first connection on (the warm-up), measures over the window, hangs up and prints one JSON
 * line (LoadProcessResult) on stdout. One shared clock drives every peer; the peers' sends are
 * spread over the 20 ms period in slots (send-slots.ts), as independent clients' would be.
 * Progress lines before it:
 *
 *   ready <connected> <failed>     all connection attempts are done
 *   window-start <epochMs>         the window began (wall clock)
 *   window-end <epochMs>
 *
 * The window starts at `windowStartAt` (epoch ms) when the config has it; with `waitForStart` it
 * starts at the epoch ms of a `start <epochMs>` line on stdin (runLoad sends one to every process
 * once all are ready, so their windows align); otherwise `warmupMs` after `ready`. With
 * `waitForStart`, stdin closing (the parent died), SIGTERM or SIGINT hang up every peer and exit.
 */
import { createInterface } from 'node:readline';
import { LoadPeer } from './load-peer.ts';
import { partFromPeers, summarise, type LoadPart, type LoadSummary, type SetupFailure } from './load-summary.ts';
import { loadOpusPackets } from './opus-packets.ts';
import { SendSlots } from './send-slots.ts';
import { SenderClock } from './sender-clock.ts';
import { signalingFrom, type SignalingConfig } from './signaling.ts';
import { toSparse } from './stats.ts';

export interface LoadProcessConfig {
  signaling: SignalingConfig;
  peers: number;
  /** Connection attempts in flight at once (default 5). */
  connectConcurrency?: number;
  warmupMs: number;
  windowMs: number;
  windowStartAt?: number;
  waitForStart?: boolean;
  /** Offer the `events` data channel (default true: our worker uses it to see the peer go). */
  dataChannel?: boolean;
}

export type LoadProcessResult = LoadSummary & { pid: number; part: LoadPart };

const HANGUP_TIMEOUT_MS = 10_000;

const lines = createInterface({ input: process.stdin });
const stdinLines: string[] = [];
const lineWaiters: ((line: string | null) => void)[] = [];
let stdinClosed = false;
lines.on('line', (l) => {
  const w = lineWaiters.shift();
  if (w) w(l);
  else stdinLines.push(l);
});
lines.on('close', () => {
  stdinClosed = true;
  for (const w of lineWaiters.splice(0)) w(null);
});

function nextLine(): Promise<string | null> {
  const l = stdinLines.shift();
  if (l !== undefined) return Promise.resolve(l);
  if (stdinClosed) return Promise.resolve(null);
  return new Promise((r) => lineWaiters.push(r));
}

async function readConfig(): Promise<LoadProcessConfig> {
  const text = process.argv[2] ?? (await nextLine());
  if (!text) throw new Error('usage: node bench/media/load-process.ts \'{"signaling":{"kind":"whip","url":"http://127.0.0.1:8787"},"peers":10,"warmupMs":3000,"windowMs":10000}\'');
  const c = JSON.parse(text) as LoadProcessConfig;
  if (!c.signaling || !(c.peers >= 0) || !(c.windowMs > 0) || !(c.warmupMs >= 0)) throw new Error(`bad config ${text}`);
  return c;
}

const sleepUntil = (perfMs: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, perfMs - performance.now())));

async function inPool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(workers);
}

/** Groups by message, with URLs and numbers that vary per attempt left as they are (they rarely do). */
function failureReasons(errors: string[]): SetupFailure[] {
  const m = new Map<string, number>();
  for (const e of errors) m.set(e, (m.get(e) ?? 0) + 1);
  return [...m].map(([reason, count]) => ({ reason, count }));
}

/** The message, with the cause fetch hides behind "fetch failed" (e.g. ECONNREFUSED). */
function describeError(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const cause = e.cause ? `: ${e.cause.code ?? e.cause.message ?? String(e.cause)}` : '';
  return `${e.message ?? String(err)}${cause}`.slice(0, 300);
}

const config = await readConfig();
const signaling = signalingFrom(config.signaling);
const packets = await loadOpusPackets();
const peers: LoadPeer[] = [];
/** Each peer starts at a different place in the recording, so the server does not see lock-step content. */
const phase: number[] = [];
const slots = new SendSlots(config.peers);
const clock = new SenderClock({
  periodMs: slots.tickMs,
  // A late wake-up may still catch up on two packet periods' worth of slots, as before slots.
  maxBurst: 2 * slots.slots,
  onTick: (tick, due) => {
    const { slot, period } = slots.at(tick);
    for (let i = 0; i < peers.length; i++) if (slots.sendsIn(i, slot)) peers[i]!.send(packets[(period + phase[i]!) % packets.length]!, period, due);
  },
});
let shuttingDown = false;

async function hangupAll(): Promise<number> {
  clock.stop();
  let errors = 0;
  await inPool([...peers], 10, async (p) => {
    const err = await Promise.race([p.hangup(), new Promise<string>((r) => setTimeout(() => r('hangup timed out'), HANGUP_TIMEOUT_MS).unref())]);
    if (err) errors++;
  });
  return errors;
}

async function abort(why: string): Promise<never> {
  if (!shuttingDown) {
    shuttingDown = true;
    console.error(`load process ${process.pid}: ${why}; hanging up ${peers.length} peers`);
    await hangupAll().catch(() => {});
  }
  process.exit(1);
}
process.once('SIGTERM', () => void abort('SIGTERM'));
process.once('SIGINT', () => void abort('SIGINT'));

clock.start();
const errors: string[] = [];
await inPool(
  Array.from({ length: config.peers }, (_, i) => i),
  config.connectConcurrency ?? 5,
  async (i) => {
    if (shuttingDown) return;
    try {
      const peer = await LoadPeer.connect(signaling, { dataChannel: config.dataChannel ?? true });
      if (shuttingDown) {
        await peer.hangup();
        return;
      }
      phase.push((i * 53) % packets.length);
      peers.push(peer);
    } catch (err) {
      errors.push(describeError(err));
    }
  },
);
console.log(`ready ${peers.length} ${errors.length}`);

let startEpoch: number;
if (config.windowStartAt !== undefined) startEpoch = config.windowStartAt;
else if (config.waitForStart) {
  // From here on stdin closing means the parent is gone.
  lines.once('close', () => {
    if (!shuttingDown) void abort('stdin closed');
  });
  let line: string | null;
  do line = await nextLine();
  while (line !== null && !line.startsWith('start '));
  if (line === null) await abort('stdin closed before start');
  startEpoch = Number(line!.slice(6));
} else startEpoch = Date.now() + config.warmupMs;

const startPerf = Math.max(performance.now(), performance.now() + (startEpoch - Date.now()));
const endPerf = startPerf + config.windowMs;
for (const p of peers) p.setWindow(startPerf, endPerf);
clock.setWindow(startPerf, endPerf);

await sleepUntil(startPerf);
const cpu0 = process.cpuUsage();
console.log(`window-start ${Date.now()}`);
await sleepUntil(endPerf);
const cpu = process.cpuUsage(cpu0);
const measuredMs = performance.now() - startPerf;
console.log(`window-end ${Date.now()}`);

clock.stop();
const stats = peers.map((p) => ({ ...p.windowStats(), answerMs: p.answerMs, connectMs: p.connectMs }));
shuttingDown = true;
const hangupErrors = await hangupAll();
const part = partFromPeers({
  pid: process.pid,
  peersRequested: config.peers,
  setupFailures: failureReasons(errors),
  windowMs: Math.round(measuredMs),
  peers: stats,
  clock: { lateness: toSparse(clock.lateness), ticks: clock.ticksInWindow, skipped: clock.skippedInWindow },
  cpuMs: (cpu.user + cpu.system) / 1000,
  hangupErrors,
});
const result: LoadProcessResult = { ...summarise([part]), pid: process.pid, part };
process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
