import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from '../support/inject.ts';
import type { LocalWorker } from '../../scripts/stack/media-worker.ts';
import { killE2eWorkers, startE2eWorker } from '../support/worker-config.ts';
import { RtcTestClient } from '../support/rtc-client.ts';

/**
 * A client flooding its `events` data channel, against a real worker process serving a second,
 * well-behaved call: the flooder's session ends with reason 'abuse' (the data channel's limits,
 * channel-guard.ts), the neighbour's echo goes on, and the worker's memory stays put. Prints the
 * worker's RSS and the neighbour's echo lateness (worker-side send lateness on the shared 20 ms
 * clock, and the gaps between echoed frames at the client) alone, during the flood and after it.
 * The flooder runs in a process of its own (support/data-channel-flooder.ts), so its client-side
 * work does not disturb the neighbour's client here.
 */
const edge = inject('edgeUrl');
const STREAM_ECHO = fileURLToPath(new URL('../fixtures/handlers/stream-echo.ts', import.meta.url));
const FLOODER = fileURLToPath(new URL('../support/data-channel-flooder.ts', import.meta.url));
const FLOOD = 20_000;

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The worker's resident set (bytes), read from /proc as the flood runs. */
function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** switchboard_send_lateness_seconds buckets (cumulative counts by upper bound, seconds). */
async function lateness(worker: LocalWorker): Promise<Map<number, number>> {
  const text = await (await fetch(`${worker.url}/metrics`)).text();
  const buckets = new Map<number, number>();
  for (const m of text.matchAll(/^switchboard_send_lateness_seconds_bucket\{le="([^"]+)"\} (\d+)/gm)) {
    buckets.set(m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2]));
  }
  return buckets;
}

/** The bucket bound under which 99 % of the sends between two scrapes fell (ms). */
function p99Ms(before: Map<number, number>, after: Map<number, number>): number {
  const total = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
  for (const [le, n] of after) if (n - (before.get(le) ?? 0) >= 0.99 * total) return le * 1000;
  return Infinity;
}

/** Largest gap between frames echoed to the client in [from, to) (ms), and how many arrived. */
function echoGaps(client: RtcTestClient, from: number, to: number): { maxGapMs: number; frames: number } {
  const at = client.received.filter((r) => r.at >= from && r.at < to).map((r) => r.at);
  let maxGapMs = 0;
  for (let i = 1; i < at.length; i++) maxGapMs = Math.max(maxGapMs, at[i]! - at[i - 1]!);
  return { maxGapMs, frames: at.length };
}

describe('a data channel flood against a real worker process', () => {
  it("ends the flooder's session with reason 'abuse' while the neighbour's echo goes on", async () => {
    const worker = await startE2eWorker({
      HANDLER: STREAM_ECHO,
      MAX_SESSIONS: '4',
    });
    cleanups.push(() => killE2eWorkers([worker]));

    // The neighbour talks all along (a tone, echoed frame by frame): 30 s, more than the test takes.
    const neighbour = await RtcTestClient.connect(edge);
    cleanups.push(() => neighbour.pc.close());
    const talking = new AbortController();
    const tone = { samples: new Int16Array(48000 * 30).map((_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 48000))), sampleRate: 48000, channels: 1 };
    const playing = neighbour.play(tone, talking.signal);
    cleanups.push(() => talking.abort());
    await expect.poll(() => neighbour.received.length, { timeout: 5000 }).toBeGreaterThan(50);

    // The worker's send lateness and RSS, sampled every 100 ms from here on.
    const samples: { at: number; late: Map<number, number>; rss: number }[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push({ at: performance.now(), late: await lateness(worker), rss: rssOf(worker.pid) });
        await sleep(100);
      }
    })();
    cleanups.push(() => (sampling = false));
    await sleep(2000);

    // The flooder, a process of its own: 20,000 messages, each of a new type, as fast as its channel takes them.
    const child = spawn(process.execPath, [FLOODER, edge, String(FLOOD)], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => child.kill('SIGKILL'));
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(0);
    const flood = JSON.parse(out.trim().split('\n').pop()!) as { id: string; sent: number; startedAt: number; errors: Record<string, unknown>[] };
    const status = (await (await fetch(`${edge}/v1/sessions/${flood.id}/status`)).json()) as { state: string; reason?: string; endedAt?: number };
    expect(status).toMatchObject({ state: 'ended', reason: 'abuse' });
    // Epoch ms onto this process's performance.now() clock.
    const floodFrom = flood.startedAt - performance.timeOrigin;
    const floodTo = status.endedAt! - performance.timeOrigin;
    // The neighbour keeps talking a second after the flooder is gone.
    await sleep(Math.max(0, floodTo + 1000 - performance.now()) + 100);
    sampling = false;
    await sampler;

    /** The neighbour's echo and the worker over [from, to): gaps at the client, send lateness and RSS at the worker. */
    const windowOf = (from: number, to: number) => {
      const first = samples.filter((x) => x.at <= from).pop() ?? samples[0]!;
      const last = samples.find((x) => x.at >= to) ?? samples[samples.length - 1]!;
      const inside = samples.filter((x) => x.at >= first.at && x.at <= last.at);
      return { ...echoGaps(neighbour, from, to), p99: p99Ms(first.late, last.late), rss: Math.max(...inside.map((x) => x.rss)) };
    };
    const alone = windowOf(floodFrom - 2500, floodFrom - 500);
    const during = windowOf(floodFrom, floodTo);
    const afterEnd = windowOf(floodTo, floodTo + 1000);
    const errors = flood.errors;

    const mib = (b: number) => (b / 2 ** 20).toFixed(1);
    const line = (name: string, w: typeof alone) =>
      `neighbour echo, ${name}: worker send lateness p99 <= ${w.p99} ms, largest gap between echoed frames ${w.maxGapMs.toFixed(1)} ms (${w.frames} frames); worker RSS peak ${mib(w.rss)} MiB`;
    console.log(
      [
        `flood of new-type messages: ${flood.sent} sent before the flooder's session ended (abuse) ${(floodTo - floodFrom).toFixed(0)} ms after its first; ${errors.length} error event(s) to the flooder`,
        line('alone (2 s)', alone),
        line(`during the flood (${(floodTo - floodFrom).toFixed(0)} ms)`, during),
        line('1 s after', afterEnd),
      ].join('\n'),
    );

    expect(errors).toEqual([expect.objectContaining({ type: 'error', code: 'abuse' })]);
    // The neighbour's call is still live and echoing: frames kept coming through the flood and after.
    const neighbourId = neighbour.sessionUrl.split('/').pop()!;
    expect((await (await fetch(`${edge}/v1/sessions/${neighbourId}/status`)).json()).state).toBe('live');
    // (Loose bounds: the machine is shared; the figures above are the measure.)
    expect(afterEnd.frames).toBeGreaterThan(25);
    expect(Math.max(during.maxGapMs, afterEnd.maxGapMs)).toBeLessThan(1000);
    // The flood cost the worker no lasting memory (nothing of it is kept).
    expect(Math.max(during.rss, afterEnd.rss) - alone.rss).toBeLessThan(64 * 2 ** 20);

    talking.abort();
    await playing;
    expect(await neighbour.hangup()).toBe(200);
  }, 90_000);
});
