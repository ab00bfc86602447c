/**
 * Optional OpenTelemetry tracing of the worker: with OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as
 * is) or OTEL_EXPORTER_OTLP_ENDPOINT (+ "/v1/traces") set, a TracerProvider with a
 * BatchSpanProcessor and the OTLP/HTTP exporter (JSON encoding: the only one the installed
 * exporter speaks) is registered as the global provider; spans.ts then records through it.
 * Without an endpoint nothing is registered: the @opentelemetry/api default is a no-op tracer.
 *
 * The OTEL_* variables are read here (not in config.ts), the standard OTel way. Headers, TLS
 * files and compression (OTEL_EXPORTER_OTLP_HEADERS, …_CERTIFICATE, …_COMPRESSION) are read from
 * the process environment by the exporter itself.
 *
 * Telemetry never breaks or delays the media path: spans are queued (bounded, OTEL_BSP_MAX_QUEUE_SIZE)
 * and exported off the audio path; export failures are logged at most once a minute; shutdown
 * flushes for at most SHUTDOWN_TIMEOUT_MS, a dead collector notwithstanding.
 */
import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';

export const DEFAULT_SERVICE_NAME = 'switchboard-media-worker';
/** Longest a worker's stop waits for the last spans to reach the collector. */
export const SHUTDOWN_TIMEOUT_MS = 2000;
/** Export failures are logged at most this often (a dead collector fails every batch). */
export const ERROR_LOG_INTERVAL_MS = 60_000;

export interface TracingConfig {
  /** The full OTLP/HTTP traces URL, e.g. http://collector:4318/v1/traces. */
  url: string;
  serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES, parsed (service.name and service.instance.id are set by us). */
  resourceAttributes: Record<string, string>;
  /** Per export request (OTEL_EXPORTER_OTLP[_TRACES]_TIMEOUT), retries included. */
  exportTimeoutMs: number;
  /** OTEL_BSP_SCHEDULE_DELAY: the longest a finished span waits before its batch is sent. */
  scheduleDelayMs: number;
  /** OTEL_BSP_MAX_QUEUE_SIZE: spans held for export; beyond, new ones are dropped. */
  maxQueueSize: number;
  /** OTEL_BSP_MAX_EXPORT_BATCH_SIZE. */
  maxExportBatchSize: number;
}

export type TracingLog = (message: string) => void;

/**
 * The tracing config from OTEL_* variables, or undefined (tracing off) when no endpoint is set,
 * OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none. Throws a clear error for values it cannot
 * use (a bad URL, the grpc protocol, a non-numeric setting).
 */
export function tracingConfigFromEnv(env: Readonly<Record<string, string | undefined>>): TracingConfig | undefined {
  const get = (k: string): string | undefined => env[k]?.trim() || undefined;
  if (get('OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return undefined;
  if (get('OTEL_TRACES_EXPORTER')?.toLowerCase() === 'none') return undefined;
  const specific = get('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const base = get('OTEL_EXPORTER_OTLP_ENDPOINT');
  if (!specific && !base) return undefined;
  const url = specific ?? `${base!.replace(/\/+$/, '')}/v1/traces`;
  const urlVar = specific ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`${urlVar} is not a URL: ${JSON.stringify(url)} (e.g. http://otel-collector:4318)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`${urlVar} must be an http(s) URL, got ${JSON.stringify(url)}`);
  const protocol = get('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? get('OTEL_EXPORTER_OTLP_PROTOCOL');
  // http/protobuf (the spec's default) is accepted: collectors take JSON on the same /v1/traces.
  if (protocol === 'grpc') throw new Error('OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported: the worker exports OTLP over HTTP (http/json; point it at the collector\'s HTTP port, 4318)');
  return {
    url,
    serviceName: get('OTEL_SERVICE_NAME') ?? DEFAULT_SERVICE_NAME,
    resourceAttributes: parseResourceAttributes(get('OTEL_RESOURCE_ATTRIBUTES')),
    exportTimeoutMs: num(env, ['OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', 'OTEL_EXPORTER_OTLP_TIMEOUT'], 10_000, 100, 60_000),
    scheduleDelayMs: num(env, ['OTEL_BSP_SCHEDULE_DELAY'], 5000, 1, 60_000),
    maxQueueSize: num(env, ['OTEL_BSP_MAX_QUEUE_SIZE'], 2048, 1, 65_536),
    maxExportBatchSize: num(env, ['OTEL_BSP_MAX_EXPORT_BATCH_SIZE'], 512, 1, 65_536),
  };
}

export interface Tracing {
  readonly config: TracingConfig;
  /** Sends the spans queued now (tests; a worker relies on the batch schedule). */
  flush(): Promise<void>;
  /** Flushes (at most `timeoutMs`), then unregisters the provider. Never rejects. */
  shutdown(timeoutMs?: number): Promise<void>;
}

/**
 * Registers the global tracer provider for `config` (undefined: nothing, returns undefined).
 * `instanceId` becomes service.instance.id (the worker id). Throws if another provider is
 * registered already (a second start, or a handler that set up its own SDK first).
 */
export function startTracing(config: TracingConfig | undefined, o: { instanceId?: string; log?: TracingLog } = {}): Tracing | undefined {
  if (!config) return undefined;
  const log = o.log ?? ((m: string) => console.error(m));
  const exporter = new OTLPTraceExporter({ url: config.url, timeoutMillis: config.exportTimeoutMs });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      ...config.resourceAttributes,
      'service.name': config.serviceName,
      ...(o.instanceId ? { 'service.instance.id': o.instanceId } : {}),
    }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new LoggedFailures(exporter, config.url, log),
        scheduledDelayMillis: config.scheduleDelayMs,
        maxQueueSize: config.maxQueueSize,
        maxExportBatchSize: Math.min(config.maxExportBatchSize, config.maxQueueSize),
        // The processor's own bound on one export, just above the exporter's.
        exportTimeoutMillis: config.exportTimeoutMs + 1000,
      }),
    ],
  });
  if (!trace.setGlobalTracerProvider(provider)) {
    void provider.shutdown().catch(() => undefined);
    throw new Error('tracing: a global OpenTelemetry tracer provider is registered already');
  }
  let stopped: Promise<void> | undefined;
  return {
    config,
    flush: () => provider.forceFlush({ timeoutMillis: config.exportTimeoutMs }).catch((err: unknown) => log(`tracing: flush failed: ${message(err)}`)),
    shutdown: (timeoutMs = SHUTDOWN_TIMEOUT_MS) =>
      (stopped ??= (async () => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
        const result = await Promise.race([provider.shutdown().then(() => 'done' as const, (err: unknown) => message(err)), timeout]);
        clearTimeout(timer);
        if (result === 'timeout') log(`tracing: the last spans did not reach ${config.url} within ${timeoutMs} ms; dropped`);
        else if (result !== 'done') log(`tracing: flushing the last spans failed: ${result}`);
        trace.disable();
      })()),
  };
}

/**
 * The exporter, logging its failures at most once per ERROR_LOG_INTERVAL_MS (with how many
 * batches failed meanwhile) instead of the SDK's silent diag channel. Results pass through unchanged.
 */
export class LoggedFailures implements SpanExporter {
  readonly #inner: SpanExporter;
  readonly #url: string;
  readonly #log: TracingLog;
  readonly #now: () => number;
  #lastLogAt = -Infinity;
  #unlogged = 0;

  constructor(inner: SpanExporter, url: string, log: TracingLog, now: () => number = () => performance.now()) {
    this.#inner = inner;
    this.#url = url;
    this.#log = log;
    this.#now = now;
  }

  export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]): void {
    this.#inner.export(spans, (result) => {
      // ExportResultCode.SUCCESS is 0 (@opentelemetry/core, not a direct dependency).
      if (result.code !== 0) this.#failed(spans.length, result.error);
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush?.() ?? Promise.resolve();
  }

  #failed(count: number, err: Error | undefined): void {
    this.#unlogged++;
    const now = this.#now();
    if (now - this.#lastLogAt < ERROR_LOG_INTERVAL_MS) return;
    const more = this.#unlogged > 1 ? ` (${this.#unlogged} failed exports since the last report)` : '';
    this.#lastLogAt = now;
    this.#unlogged = 0;
    this.#log(`tracing: exporting ${count} span(s) to ${this.#url} failed: ${err ? message(err) : 'unknown error'}${more}`);
  }
}

/** "k=v,k2=v2" with percent-encoded values (the OTel spec's format); at most 64 pairs. */
function parseResourceAttributes(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const pair of raw.split(',').slice(0, 64)) {
    const i = pair.indexOf('=');
    if (i <= 0) throw new Error(`OTEL_RESOURCE_ATTRIBUTES: expected key=value pairs separated by commas, got ${JSON.stringify(pair)}`);
    const key = pair.slice(0, i).trim();
    const value = pair.slice(i + 1).trim();
    try {
      out[key] = decodeURIComponent(value);
    } catch {
      out[key] = value;
    }
  }
  return out;
}

function num(env: Readonly<Record<string, string | undefined>>, names: readonly string[], dflt: number, min: number, max: number): number {
  for (const name of names) {
    const raw = env[name]?.trim();
    if (!raw) continue;
    const v = Number(raw);
    if (!Number.isFinite(v) || v < min || v > max) throw new Error(`${name} must be a number in ${min}..${max}, got ${JSON.stringify(raw)}`);
    return Math.round(v);
  }
  return dflt;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
