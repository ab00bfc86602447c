import { describe, expect, it } from 'vitest';
import { DEFAULT_SERVICE_NAME, type IntervalTimers, UtilizationPublisher, type UtilizationOptions } from './emf-utilization.ts';

const T0 = 1_700_000_000_000;

/** A manual clock: `advance` moves time and fires due intervals in order. */
interface FakeClock {
  now: () => number;
  timers: IntervalTimers;
  advance(ms: number): void;
  /** Intervals still set. */
  live(): number;
}

function fakeClock(start = T0): FakeClock {
  let t = start;
  let nextId = 1;
  const intervals = new Map<number, { fn: () => void; every: number; due: number }>();
  return {
    now: () => t,
    timers: {
      setInterval: (fn, every) => {
        const id = nextId++;
        intervals.set(id, { fn, every, due: t + every });
        return id;
      },
      clearInterval: (id) => void intervals.delete(id as number),
    },
    advance(ms) {
      const end = t + ms;
      for (;;) {
        let next: { id: number; due: number } | undefined;
        for (const [id, iv] of intervals) if (iv.due <= end && (!next || iv.due < next.due)) next = { id, due: iv.due };
        const iv = next && intervals.get(next.id);
        if (!next || !iv) break;
        t = next.due;
        iv.due += iv.every;
        iv.fn();
      }
      t = end;
    },
    live: () => intervals.size,
  };
}

interface Harness {
  clock: FakeClock;
  lines: string[];
  logs: string[];
  /** What busy() answers. */
  busy: { n: number };
  pub: UtilizationPublisher;
}

function harness(opts: Partial<UtilizationOptions> = {}): Harness {
  const clock = fakeClock();
  const lines: string[] = [];
  const logs: string[] = [];
  const busy = { n: 0 };
  const pub = new UtilizationPublisher({
    namespace: 'Switchboard/Test',
    service: 'switchboard-test-media-worker',
    capacity: 10,
    busy: () => busy.n,
    write: (l) => lines.push(l),
    now: clock.now,
    timers: clock.timers,
    log: (m) => logs.push(m),
    ...opts,
  });
  return { clock, lines, logs, busy, pub };
}

interface EmfDirective {
  Namespace: unknown;
  Dimensions: unknown;
  Metrics: unknown;
}

/**
 * Parses one line and checks it against the EMF specification's structure: one JSON object with
 * `_aws.Timestamp` (epoch ms) and `_aws.CloudWatchMetrics` directives, every dimension a top-level
 * string member and every metric a top-level number member. Returns the parsed object.
 */
function parseEmf(line: string): Record<string, unknown> {
  expect(line).not.toContain('\n');
  const doc = JSON.parse(line) as Record<string, unknown>;
  const aws = doc._aws as { Timestamp: unknown; CloudWatchMetrics: unknown };
  expect(Number.isInteger(aws.Timestamp)).toBe(true);
  expect(Array.isArray(aws.CloudWatchMetrics)).toBe(true);
  for (const d of aws.CloudWatchMetrics as EmfDirective[]) {
    expect(typeof d.Namespace).toBe('string');
    expect((d.Namespace as string).length).toBeGreaterThan(0);
    expect(Array.isArray(d.Dimensions)).toBe(true);
    for (const set of d.Dimensions as unknown[]) {
      expect(Array.isArray(set)).toBe(true);
      for (const name of set as unknown[]) expect(typeof doc[name as string]).toBe('string');
    }
    for (const m of d.Metrics as Array<{ Name: unknown; Unit: unknown }>) {
      expect(typeof m.Name).toBe('string');
      expect(typeof doc[m.Name as string]).toBe('number');
    }
  }
  return doc;
}

describe('UtilizationPublisher', () => {
  it('writes one EMF line per window, stamped with the publish time', () => {
    const h = harness();
    h.busy.n = 4;
    h.pub.start();
    h.clock.advance(59_999);
    expect(h.lines).toHaveLength(0);
    h.clock.advance(1);
    expect(h.lines).toHaveLength(1);
    const doc = parseEmf(h.lines[0] ?? '');
    expect(doc).toEqual({
      _aws: {
        Timestamp: T0 + 60_000,
        CloudWatchMetrics: [
          {
            Namespace: 'Switchboard/Test',
            Dimensions: [['ServiceName']],
            Metrics: [
              { Name: 'Utilization', Unit: 'Percent' },
              { Name: 'UtilizationPeak', Unit: 'Percent' },
              { Name: 'Sessions', Unit: 'Count' },
            ],
          },
        ],
      },
      ServiceName: 'switchboard-test-media-worker',
      Utilization: 40,
      UtilizationPeak: 40,
      Sessions: 4,
    });
    h.clock.advance(60_000);
    expect(h.lines).toHaveLength(2);
    expect(parseEmf(h.lines[1] ?? '')._aws).toMatchObject({ Timestamp: T0 + 120_000 });
    h.pub.stop();
  });

  it('reports the mean and the peak of the window, and Sessions at publish time', () => {
    const h = harness({ capacity: 3 });
    h.pub.start();
    h.busy.n = 0;
    h.clock.advance(30_000); // 30 samples at 0 %
    h.busy.n = 3;
    h.clock.advance(10_000); // 10 at 100 %
    h.busy.n = 1;
    h.clock.advance(20_000); // 20 at 33.33 %
    const doc = parseEmf(h.lines[0] ?? '');
    // (10 * 100 + 20 * 33.333) / 60 = 27.78
    expect(doc.Utilization).toBe(27.8);
    expect(doc.UtilizationPeak).toBe(100);
    expect(doc.Sessions).toBe(1);

    // The next window starts afresh: the earlier peak is not carried over.
    h.clock.advance(60_000);
    expect(parseEmf(h.lines[1] ?? '')).toMatchObject({ Utilization: 33.3, UtilizationPeak: 33.3, Sessions: 1 });
    h.pub.stop();
  });

  it('clamps at 100 % when claims in flight push busy past capacity', () => {
    const h = harness({ capacity: 2, publishEveryMs: 5_000 });
    h.busy.n = 5;
    h.pub.start();
    h.clock.advance(5_000);
    expect(parseEmf(h.lines[0] ?? '')).toMatchObject({ Utilization: 100, UtilizationPeak: 100, Sessions: 5 });
    h.pub.stop();
  });

  it('does nothing when the namespace is empty', () => {
    const h = harness({ namespace: '' });
    h.busy.n = 3;
    expect(h.pub.enabled).toBe(false);
    h.pub.start();
    expect(h.clock.live()).toBe(0);
    h.clock.advance(180_000);
    h.pub.flush();
    h.pub.stop();
    expect(h.lines).toHaveLength(0);
  });

  it('uses the default ServiceName when none is configured', () => {
    const h = harness({ service: '', publishEveryMs: 2_000 });
    h.pub.start();
    h.clock.advance(2_000);
    expect(parseEmf(h.lines[0] ?? '').ServiceName).toBe(DEFAULT_SERVICE_NAME);
    h.pub.stop();
  });

  it('stop() writes the partial window, then nothing more', () => {
    const h = harness();
    h.pub.start();
    h.clock.advance(60_000);
    expect(h.lines).toHaveLength(1);
    h.busy.n = 10;
    h.clock.advance(15_500); // 15 samples into the next window
    h.busy.n = 0; // drained
    h.pub.stop();
    expect(h.lines).toHaveLength(2);
    expect(parseEmf(h.lines[1] ?? '')).toMatchObject({ _aws: { Timestamp: T0 + 75_500 }, Utilization: 100, UtilizationPeak: 100, Sessions: 0 });
    expect(h.clock.live()).toBe(0);
    h.clock.advance(300_000);
    h.pub.flush();
    h.pub.stop();
    h.pub.start();
    h.clock.advance(300_000);
    expect(h.lines).toHaveLength(2);
  });

  it('stop() with no sample yet writes nothing', () => {
    const h = harness();
    h.pub.start();
    h.clock.advance(999);
    h.pub.stop();
    expect(h.lines).toHaveLength(0);
  });

  it('flush() writes the window so far and starts a new one', () => {
    const h = harness();
    h.busy.n = 5;
    h.pub.start();
    h.clock.advance(3_000);
    h.pub.flush();
    h.pub.flush(); // no samples since: nothing
    expect(h.lines).toHaveLength(1);
    expect(parseEmf(h.lines[0] ?? '')).toMatchObject({ _aws: { Timestamp: T0 + 3_000 }, Utilization: 50 });
    // The next window runs a full publishEveryMs from the flush.
    h.clock.advance(59_999);
    expect(h.lines).toHaveLength(1);
    h.clock.advance(1);
    expect(h.lines).toHaveLength(2);
    h.pub.stop();
  });

  it('a write() or busy() that throws does not escape the timer or stop()', () => {
    let calls = 0;
    const h = harness({
      publishEveryMs: 2_000,
      write: () => {
        calls++;
        throw new Error('EPIPE');
      },
    });
    h.pub.start();
    expect(() => h.clock.advance(6_000)).not.toThrow();
    expect(calls).toBe(3);
    expect(h.logs.filter((l) => l.includes('EPIPE'))).toHaveLength(3);

    let failing = true;
    const lines: string[] = [];
    const g = harness({
      publishEveryMs: 4_000,
      write: (l) => lines.push(l),
      busy: () => {
        if (failing) throw new Error('no worker');
        return 2;
      },
    });
    g.pub.start();
    expect(() => g.clock.advance(2_000)).not.toThrow();
    failing = false;
    g.clock.advance(2_000);
    // Two samples were skipped: the window holds the two that were read.
    expect(parseEmf(lines[0] ?? '')).toMatchObject({ Utilization: 20, Sessions: 2 });
    expect(g.logs.filter((l) => l.includes('no worker'))).toHaveLength(1);
    expect(() => h.pub.stop()).not.toThrow();
    g.pub.stop();
  });
});
