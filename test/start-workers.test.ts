import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalSqs, type LocalSqs } from '../scripts/stack/local-sqs.ts';
import { freePort } from '../scripts/stack/ports.ts';
import { startMediaWorker } from '../scripts/stack/media-worker.ts';
import { splitPortRange, startWorkers, workerCount, workerEnv, workerPlan, type LocalWorkers } from '../scripts/stack/workers.ts';

/** True when nothing listens on 127.0.0.1:port right now. */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A port p with p and p + 1 both free a moment ago (9090/9091-style consecutive health ports). */
async function freePortPair(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const p = await freePort();
    if (p < 65535 && (await isFree(p + 1))) return p;
  }
  throw new Error('no two consecutive free ports');
}

/** A running process's environment, as the kernel holds it (Linux). */
function environOf(pid: number): Record<string, string> {
  const raw = readFileSync(`/proc/${pid}/environ`, 'utf8');
  return Object.fromEntries(raw.split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

describe('WORKERS: how many media workers npm start runs', () => {
  it('defaults to one and accepts 1..64', () => {
    expect(workerCount(undefined)).toBe(1);
    expect(workerCount('')).toBe(1);
    expect(workerCount('2')).toBe(2);
    expect(workerCount('64')).toBe(64);
  });

  it('refuses anything else with a message naming WORKERS and its range', () => {
    for (const bad of ['0', '65', '-1', '1.5', 'two', '2x', '1e1']) {
      expect(() => workerCount(bad), bad).toThrow(/^WORKERS must be a whole number from 1 to 64 \(got "/);
    }
  });

  it('gives worker i the health port base + i, and refuses a base that leaves no room', () => {
    expect(workerPlan({ WORKERS: '3' })).toEqual({ count: 3, basePort: 9090, rtcRanges: null, udpPorts: [50000, 50001, 50002] });
    expect(workerPlan({ WORKERS: '2', WORKER_HTTP_PORT: '7000' }).basePort).toBe(7000);
    expect(() => workerPlan({ WORKERS: '2', WORKER_HTTP_PORT: '65535' })).toThrow(/WORKER_HTTP_PORT=65535 leaves no room for WORKERS=2/);
    expect(() => workerPlan({ WORKER_HTTP_PORT: 'http' })).toThrow(/WORKER_HTTP_PORT must be a whole number/);
  });

  it('splits a configured RTC port range evenly, without overlap, using every port', () => {
    expect(splitPortRange(40000, 40199, 2)).toEqual([[40000, 40099], [40100, 40199]]);
    expect(splitPortRange(40000, 40004, 2)).toEqual([[40000, 40002], [40003, 40004]]);
    expect(splitPortRange(40000, 40199, 1)).toEqual([[40000, 40199]]);
    const ranges = splitPortRange(10000, 10999, 64);
    expect(ranges).toHaveLength(64);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]?.[0]).toBe((ranges[i - 1]?.[1] ?? 0) + 1);
    expect(ranges.at(-1)?.[1]).toBe(10999);
    expect(() => splitPortRange(40000, 40000, 2)).toThrow(/fewer than WORKERS=2/);
    expect(() => workerPlan({ RTC_PORT_MIN: '40000' })).toThrow(/RTC_PORT_MIN and RTC_PORT_MAX must be set together/);
    expect(() => workerPlan({ RTC_PORT_MIN: '40000', RTC_PORT_MAX: '39000' })).toThrow(/RTC_PORT_MAX must be a whole number from 40000/);
  });

  it('puts each worker on a UDP port of its own (RTC_UDP_PORT + i), or every one on a port the OS picks with 0', () => {
    expect(workerPlan({ WORKERS: '2', RTC_UDP_PORT: '3478' }).udpPorts).toEqual([3478, 3479]);
    expect(workerPlan({ WORKERS: '2', RTC_UDP_PORT: '0' }).udpPorts).toEqual([0, 0]);
    const plan = workerPlan({ WORKERS: '2' });
    expect(workerEnv(plan, 1, { WORKERS: '2' })['RTC_UDP_PORT']).toBe('50001');
    expect(workerEnv(plan, 1, { WORKERS: '2' })['RTC_PORT_MIN']).toBeUndefined();
    // Their frame clocks tick half a frame apart; one worker alone keeps its own phase.
    expect([0, 1].map((i) => workerEnv(plan, i, {})['FRAME_CLOCK_OFFSET_MS'])).toEqual(['0', '10']);
    expect(workerEnv(workerPlan({}), 0, {})['FRAME_CLOCK_OFFSET_MS']).toBeUndefined();
    expect(workerPlan({ RTC_PORT_MIN: '40000', RTC_PORT_MAX: '40099' }).udpPorts).toBeNull();
    expect(() => workerPlan({ RTC_UDP_PORT: '40000', RTC_PORT_MIN: '40000', RTC_PORT_MAX: '40099' })).toThrow(/exclude each other/);
    expect(() => workerPlan({ WORKERS: '2', RTC_UDP_PORT: '65535' })).toThrow(/RTC_UDP_PORT=65535 leaves no room for WORKERS=2/);
    expect(() => workerPlan({ RTC_UDP_PORT: 'udp' })).toThrow(/RTC_UDP_PORT must be a whole number/);
  });

  it('stops a worker at start, naming the port, when its RTC_UDP_PORT is taken', async () => {
    const holder = createSocket('udp4');
    await new Promise<void>((r) => holder.bind(0, '127.0.0.1', r));
    try {
      await expect(
        startMediaWorker({ quiet: true, env: { SQS_QUEUE_URL: 'http://127.0.0.1:9/q', RTC_UDP_PORT: String(holder.address().port) } }),
      ).rejects.toThrow(new RegExp(`RTC_UDP_PORT ${holder.address().port} on 127.0.0.1: .*EADDRINUSE`));
    } finally {
      holder.close();
    }
  }, 30_000);

  describe('WORKERS=2 through the launcher npm start uses', () => {
    let sqs: LocalSqs | undefined;
    let workers: LocalWorkers | undefined;
    afterAll(async () => {
      await workers?.stop('SIGKILL');
      await sqs?.stop();
    });

    it('starts two workers whose health answers on consecutive ports, each with its own RTC range, and stops both', async () => {
      sqs = await startLocalSqs({ port: 0 });
      const base = await freePortPair();
      const plan = workerPlan({ WORKERS: '2', WORKER_HTTP_PORT: String(base), RTC_PORT_MIN: '41000', RTC_PORT_MAX: '41099' });
      workers = await startWorkers(
        plan,
        { SQS_QUEUE_URL: sqs.queueUrl, SQS_ENDPOINT: sqs.endpoint, SQS_WAIT_S: '1', PUBLIC_BASE_URL: 'http://127.0.0.1:8787', WORKERS: '2' },
        { quiet: true },
      );
      const urls = workers.workers.map((w) => w.url);
      expect(urls).toEqual([`http://127.0.0.1:${base}`, `http://127.0.0.1:${base + 1}`]);
      for (const url of urls) expect((await fetch(`${url}/healthz`)).status).toBe(200);

      const [a, b] = workers.workers;
      expect(a?.pid).not.toBe(b?.pid);
      const envs = workers.workers.map((w) => environOf(w.pid));
      expect(envs.map((e) => [e['RTC_PORT_MIN'], e['RTC_PORT_MAX']])).toEqual([['41000', '41049'], ['41050', '41099']]);

      // A second stack on the same ports is refused before any worker starts.
      await expect(startWorkers(plan, { SQS_QUEUE_URL: sqs.queueUrl }, { quiet: true })).rejects.toThrow(
        new RegExp(`health port\\(s\\) ${base}, ${base + 1} already in use`),
      );

      await workers.stop();
      for (const url of urls) await expect(fetch(`${url}/healthz`)).rejects.toThrow();
      workers = undefined;
    }, 90_000);
  });
});
