/**
 * A fake OpenTelemetry collector at the protocol level, written from the OTLP spec (OTLP/HTTP,
 * JSON encoding: `POST /v1/traces`, body an ExportTraceServiceRequest, answered 200 with an
 * ExportTraceServiceResponse), independent of the project's code and of the OTel SDK. Decodes
 * the spans it receives for tests to assert on.
 *
 * Modes: `ok` answers 200 `{}`; `hang` reads the request and never answers (a black-holed
 * collector); `fail` answers 503. `FakeOtlpCollector.deadEndpoint()` is a port nothing listens on.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** Bodies beyond this are refused with 413 (a test collector needs no more). */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

export type AttrValue = string | number | boolean | null | AttrValue[];

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  startNs: bigint;
  endNs: bigint;
  /** (end - start) in ms. */
  durationMs: number;
  /** Start in epoch ms (float). */
  startMs: number;
  endMs: number;
  attributes: Record<string, AttrValue>;
  status: { code: number; message: string };
  resource: Record<string, AttrValue>;
  scope: string;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  contentType: string;
  spans: number;
}

export class FakeOtlpCollector {
  readonly requests: ReceivedRequest[] = [];
  readonly spans: ReceivedSpan[] = [];
  readonly endpoint: string;
  readonly #server: Server;
  readonly #hung = new Set<ServerResponse>();

  private constructor(server: Server) {
    this.#server = server;
    this.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  static async start(mode: 'ok' | 'hang' | 'fail' = 'ok'): Promise<FakeOtlpCollector> {
    let self: FakeOtlpCollector | undefined;
    const server = createServer((req, res) => void self?.handle(req, res, mode));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new FakeOtlpCollector(server);
    return self;
  }

  /** An http://127.0.0.1 endpoint with nothing listening (connections are refused). */
  static async deadEndpoint(): Promise<string> {
    const c = await FakeOtlpCollector.start();
    const url = c.endpoint;
    await c.close();
    return url;
  }

  /** Resolves with the spans received once `pred` holds (checked on every request and every 10 ms). */
  waitForSpans(pred: (spans: readonly ReceivedSpan[]) => boolean, what: string, timeoutMs = 5000): Promise<ReceivedSpan[]> {
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const check = (): void => {
        if (pred(this.spans)) {
          clearInterval(timer);
          resolve([...this.spans]);
        } else if (performance.now() - started > timeoutMs) {
          clearInterval(timer);
          reject(new Error(`fake collector: timed out waiting for ${what}; got spans: ${this.spans.map((s) => s.name).join(', ') || 'none'}`));
        }
      };
      const timer = setInterval(check, 10);
      check();
    });
  }

  async close(): Promise<void> {
    for (const res of this.#hung) res.destroy();
    this.#hung.clear();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse, mode: 'ok' | 'hang' | 'fail'): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413).end();
        return;
      }
      chunks.push(c);
    }
    const contentType = String(req.headers['content-type'] ?? '');
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method !== 'POST' || path !== '/v1/traces') {
      this.requests.push({ method: req.method ?? '', path, contentType, spans: 0 });
      res.writeHead(404).end();
      return;
    }
    let body = Buffer.concat(chunks);
    if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
    if (!contentType.startsWith('application/json')) {
      // This fake speaks the JSON encoding only; protobuf bodies are recorded, not decoded.
      this.requests.push({ method: 'POST', path, contentType, spans: 0 });
      res.writeHead(415, { 'content-type': 'application/json' }).end('{"code":3,"message":"only application/json"}');
      return;
    }
    const spans = decodeExportRequest(JSON.parse(body.toString('utf8')) as unknown);
    this.requests.push({ method: 'POST', path, contentType, spans: spans.length });
    this.spans.push(...spans);
    if (mode === 'hang') {
      this.#hung.add(res);
      return;
    }
    if (mode === 'fail') {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"code":14,"message":"unavailable"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  }
}

type Json = Record<string, unknown>;

/** ExportTraceServiceRequest (OTLP/JSON): resourceSpans[].scopeSpans[].spans[]. */
export function decodeExportRequest(body: unknown): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of arr((body as Json).resourceSpans)) {
    const resource = attrs((rs.resource as Json | undefined)?.attributes);
    for (const ss of arr(rs.scopeSpans)) {
      const scope = String((ss.scope as Json | undefined)?.name ?? '');
      for (const s of arr(ss.spans)) {
        // Fixed64 fields are strings or numbers in OTLP/JSON; ids are lowercase hex.
        const startNs = BigInt(String(s.startTimeUnixNano ?? 0));
        const endNs = BigInt(String(s.endTimeUnixNano ?? 0));
        const status = (s.status as Json | undefined) ?? {};
        out.push({
          traceId: String(s.traceId ?? ''),
          spanId: String(s.spanId ?? ''),
          parentSpanId: String(s.parentSpanId ?? ''),
          name: String(s.name ?? ''),
          startNs,
          endNs,
          durationMs: Number(endNs - startNs) / 1e6,
          startMs: Number(startNs) / 1e6,
          endMs: Number(endNs) / 1e6,
          attributes: attrs(s.attributes),
          status: { code: Number(status.code ?? 0), message: String(status.message ?? '') },
          resource,
          scope,
        });
      }
    }
  }
  return out;
}

function arr(x: unknown): Json[] {
  return Array.isArray(x) ? (x as Json[]) : [];
}

/** KeyValue[] → a record of AnyValue (intValue is an int64: a decimal string in JSON). */
function attrs(list: unknown): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const kv of arr(list)) out[String(kv.key)] = anyValue(kv.value as Json | undefined);
  return out;
}

function anyValue(v: Json | undefined): AttrValue {
  if (!v) return null;
  if ('stringValue' in v) return String(v.stringValue);
  if ('boolValue' in v) return Boolean(v.boolValue);
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return Number(v.doubleValue);
  if ('arrayValue' in v) return arr((v.arrayValue as Json | undefined)?.values).map((x) => anyValue(x));
  return null;
}
