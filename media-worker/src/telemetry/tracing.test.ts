/**
 * tracing.ts against the protocol-level fake collector: the config from OTEL_* variables, what
 * reaches the collector (resource, span, times), no provider and no traffic without an endpoint,
 * and a collector that hangs or is down neither throws nor holds shutdown beyond its bound.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeOtlpCollector } from './fake-otlp-collector.test-helper.ts';
import { activeTracer, recordPipelineTurn, type PipelineTurn } from './spans.ts';
import { ERROR_LOG_INTERVAL_MS, LoggedFailures, SHUTDOWN_TIMEOUT_MS, startTracing, tracingConfigFromEnv, type Tracing } from './tracing.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function collector(mode?: 'ok' | 'hang' | 'fail'): Promise<FakeOtlpCollector> {
  const c = await FakeOtlpCollector.start(mode);
  cleanups.push(() => c.close());
  return c;
}

function tracing(env: Record<string, string>, logs: string[] = []): Tracing {
  const t = startTracing(tracingConfigFromEnv(env), { instanceId: 'w-test-1', log: (m) => logs.push(m) });
  if (!t) throw new Error('tracing did not start');
  cleanups.push(() => t.shutdown(200));
  return t;
}

const turn = (o: Partial<PipelineTurn> = {}): PipelineTurn => ({
  session: { id: 'sess-9', kind: 'phone' },
  turn: 3,
  decidedAt: 1_700_000_000_000.25,
  endAt: 1_700_000_001_234.75,
  interruption: undefined,
  metrics: { endOfSpeechToFirstFrameMs: 42.5, handlerFirstFrameMs: 40.1 },
  failed: false,
  ...o,
});

describe('tracingConfigFromEnv', () => {
  it('is off without an endpoint, or when disabled', () => {
    expect(tracingConfigFromEnv({})).toBeUndefined();
    expect(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' })).toBeUndefined();
    expect(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
    expect(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
  });

  it('derives the traces URL, service name and resource attributes', () => {
    const c = tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,team=voice%20ops' });
    expect(c).toMatchObject({ url: 'http://c:4318/v1/traces', serviceName: 'switchboard-media-worker', resourceAttributes: { 'deployment.environment': 'prod', team: 'voice ops' } });
    expect(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://t.example/custom', OTEL_SERVICE_NAME: 'sb-eu' })).toMatchObject({
      url: 'https://t.example/custom',
      serviceName: 'sb-eu',
    });
  });

  it('rejects what it cannot use, naming the variable', () => {
    expect(() => tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT must be an http\(s\) URL/);
    expect(() => tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'not a url' })).toThrow(/OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is not a URL/);
    expect(() => tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/grpc is not supported/);
    expect(() => tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_BSP_SCHEDULE_DELAY: 'soon' })).toThrow(/OTEL_BSP_SCHEDULE_DELAY must be a number/);
  });
});

describe('startTracing', { timeout: 10_000 }, () => {
  it('without an endpoint: no provider registered, nothing sent', async () => {
    const c = await collector();
    expect(startTracing(tracingConfigFromEnv({}))).toBeUndefined();
    expect(activeTracer()).toBeUndefined();
    recordPipelineTurn(turn());
    await new Promise((r) => setTimeout(r, 300));
    expect(c.requests).toEqual([]);
  });

  it('exports a turn span over OTLP/HTTP JSON with the resource and the exact times', async () => {
    const c = await collector();
    tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: c.endpoint, OTEL_BSP_SCHEDULE_DELAY: '20', OTEL_SERVICE_NAME: 'sb-test' });
    expect(activeTracer()).toBeDefined();
    const t = turn({ interruption: { playedMs: 812 } });
    recordPipelineTurn(t);
    const [span] = await c.waitForSpans((s) => s.length >= 1, 'the turn span');
    expect(c.requests[0]).toMatchObject({ method: 'POST', path: '/v1/traces', contentType: 'application/json' });
    expect(span!.resource).toMatchObject({ 'service.name': 'sb-test', 'service.instance.id': 'w-test-1' });
    expect(span!.scope).toBe('switchboard-media-worker');
    expect(span!.name).toBe('turn');
    expect(span!.parentSpanId).toBe('');
    expect(span!.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(span!.attributes).toEqual({
      'switchboard.session.id': 'sess-9',
      'switchboard.session.kind': 'phone',
      'switchboard.turn': 3,
      'switchboard.interrupted': true,
      'switchboard.played_ms': 812,
      'switchboard.end_of_speech_to_first_frame_ms': 42.5,
      'switchboard.handler_first_frame_ms': 40.1,
    });
    // The given timestamps, not re-taken: epoch ms to ns (doubles: within a microsecond).
    expect(Math.abs(span!.startMs - t.decidedAt)).toBeLessThan(0.001);
    expect(Math.abs(span!.durationMs - (t.endAt - t.decidedAt))).toBeLessThan(0.001);
    expect(span!.status.code).toBe(0);
  });

  it('a failed handler marks the span as an error', async () => {
    const c = await collector();
    tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: c.endpoint, OTEL_BSP_SCHEDULE_DELAY: '20' });
    recordPipelineTurn(turn({ failed: true, metrics: undefined }));
    const [span] = await c.waitForSpans((s) => s.length >= 1, 'the turn span');
    expect(span!.status).toEqual({ code: 2, message: 'the handler failed' });
    expect(span!.attributes['switchboard.end_of_speech_to_first_frame_ms']).toBeUndefined();
  });

  it('a hanging collector: recording stays fast and shutdown gives up after SHUTDOWN_TIMEOUT_MS', async () => {
    const c = await collector('hang');
    const logs: string[] = [];
    const t = startTracing(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: c.endpoint, OTEL_BSP_SCHEDULE_DELAY: '1' }), { log: (m) => logs.push(m) })!;
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) recordPipelineTurn(turn({ turn: i }));
    expect(performance.now() - t0).toBeLessThan(100);
    await c.waitForSpans((s) => s.length >= 1, 'an export attempt');
    const s0 = performance.now();
    await t.shutdown();
    const took = performance.now() - s0;
    expect(took).toBeGreaterThanOrEqual(SHUTDOWN_TIMEOUT_MS - 50);
    expect(took).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 500);
    expect(logs.some((m) => m.includes(`did not reach ${c.endpoint}/v1/traces within ${SHUTDOWN_TIMEOUT_MS} ms`))).toBe(true);
    expect(activeTracer()).toBeUndefined();
  });

  it('a collector that is down: no throw, the failure logged once, shutdown quick', async () => {
    const logs: string[] = [];
    // The exporter retries a refused connection until its timeout: 300 ms here (10 s by default).
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: await FakeOtlpCollector.deadEndpoint(), OTEL_BSP_SCHEDULE_DELAY: '1', OTEL_EXPORTER_OTLP_TIMEOUT: '300' };
    const t = startTracing(tracingConfigFromEnv(env), { log: (m) => logs.push(m) })!;
    const failures = (): string[] => logs.filter((m) => m.includes('span(s) to') && m.includes('failed'));
    recordPipelineTurn(turn());
    await waitFor(() => failures().length === 1, 3000);
    recordPipelineTurn(turn());
    await new Promise((r) => setTimeout(r, 900)); // a second export fails meanwhile: not logged again
    const s0 = performance.now();
    await t.shutdown();
    expect(performance.now() - s0).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 200);
    expect(failures()).toHaveLength(1);
    expect(failures()[0]).toMatch(/^tracing: exporting 1 span\(s\) to http:\/\/127\.0\.0\.1:\d+\/v1\/traces failed: /);
  });
});

async function waitFor(pred: () => boolean, timeoutMs: number): Promise<void> {
  const t0 = performance.now();
  while (!pred()) {
    if (performance.now() - t0 > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('LoggedFailures', () => {
  it('logs export failures at most once a minute, counting the ones it held back', () => {
    let now = 0;
    const logs: string[] = [];
    let result = { code: 1, error: new Error('ECONNREFUSED') };
    const inner = { export: (_s: unknown, done: (r: typeof result) => void) => done(result), shutdown: async () => {} };
    const results: number[] = [];
    const e = new LoggedFailures(inner as never, 'http://c/v1/traces', (m) => logs.push(m), () => now);
    const send = (): void => e.export([], (r) => results.push(r.code));
    send();
    now += 1000;
    send();
    send();
    expect(logs).toEqual(['tracing: exporting 0 span(s) to http://c/v1/traces failed: ECONNREFUSED']);
    now += ERROR_LOG_INTERVAL_MS;
    send();
    expect(logs[1]).toBe('tracing: exporting 0 span(s) to http://c/v1/traces failed: ECONNREFUSED (3 failed exports since the last report)');
    result = { code: 0, error: undefined as never };
    now += ERROR_LOG_INTERVAL_MS;
    send();
    expect(logs).toHaveLength(2);
    expect(results).toEqual([1, 1, 1, 1, 0]);
  });
});
