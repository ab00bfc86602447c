import { WorkerEndReason } from '@switchboard/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import { createMetrics, type Metrics } from './metrics.ts';
import { startHttp } from './server.ts';

describe('GET /metrics', () => {
  let metrics: Metrics;
  let server: Server;
  let url: string;
  beforeAll(async () => {
    metrics = createMetrics();
    server = await startHttp({ host: '127.0.0.1', port: 0, metrics, ready: () => true });
    const addr = server.address();
    url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/metrics`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("carries prom-client's process and Node.js metrics under their standard names", async () => {
    const text = await (await fetch(url)).text();
    for (const name of ['process_resident_memory_bytes', 'process_cpu_seconds_total', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds']) {
      expect(text).toMatch(new RegExp(`^${name} `, 'm'));
    }
    expect(text).not.toContain('switchboard_worker_');
  });

  it('labels sessions_ended with WorkerEndReason values only; anything else counts as error', async () => {
    metrics.sessionsEnded.inc({ reason: 'abuse' });
    metrics.sessionsEnded.inc({ reason: 'handler_closed' }, 2);
    // A caller bypassing the types with free text (an error message, a client's words).
    for (let i = 0; i < 100; i++) metrics.sessionsEnded.inc({ reason: `error: boom ${i}` as WorkerEndReason });
    const text = await (await fetch(url)).text();
    const series = [...text.matchAll(/^switchboard_sessions_ended_total\{reason="([^"]*)"\} (\d+)/gm)].map((m) => [m[1], Number(m[2])]);
    expect(Object.fromEntries(series)).toEqual({ abuse: 1, handler_closed: 2, error: 100 });
    for (const [reason] of series) expect(WorkerEndReason.options).toContain(reason);
  });
});
