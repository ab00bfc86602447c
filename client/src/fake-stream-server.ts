import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * Test support: a stand-in for the edge's `GET /v1/stream`, written from docs/stream-protocol.md.
 * It answers the upgrade (or refuses it with a plain HTTP answer), sends `session` at once unless
 * told not to, records every client frame with its arrival time, and lets a test script the rest.
 */
export interface Received {
  atMs: number;
  /** Parsed JSON of a text frame. */
  json?: Record<string, unknown>;
  text?: string;
  binary?: Buffer;
}

export interface Refusal {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

export interface FakeServerOptions {
  /** Answer every upgrade with this plain HTTP response. */
  refuse?: Refusal;
  /** Send `{"type":"session"}` on connect (default true). */
  sendSession?: boolean;
}

export class FakeConnection {
  readonly ws: WebSocket;
  readonly headers: IncomingHttpHeaders;
  readonly received: Received[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters: Array<() => void> = [];

  constructor(ws: WebSocket, headers: IncomingHttpHeaders) {
    this.ws = ws;
    this.headers = headers;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const r: Received = { atMs: performance.now() };
      if (isBinary) r.binary = data;
      else {
        r.text = data.toString('utf8');
        try {
          r.json = JSON.parse(r.text) as Record<string, unknown>;
        } catch {
          // not JSON: the test sees `text` without `json`
        }
      }
      this.received.push(r);
      for (const w of this.#waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })));
  }

  get json(): Record<string, unknown>[] {
    return this.received.flatMap((r) => (r.json ? [r.json] : []));
  }

  get binaries(): Buffer[] {
    return this.received.flatMap((r) => (r.binary ? [r.binary] : []));
  }

  /** Resolves with the first received frame matching `pred`, waiting for it if need be. */
  async waitFor(pred: (r: Received) => boolean, timeoutMs = 2000): Promise<Received> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const hit = this.received.find(pred);
      if (hit) return hit;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error('fake server: timed out waiting for a client message');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  waitForJson(type: string, extra: (j: Record<string, unknown>) => boolean = () => true, timeoutMs?: number): Promise<Received> {
    return this.waitFor((r) => r.json?.type === type && extra(r.json), timeoutMs);
  }

  sendJson(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }

  sendText(text: string): void {
    this.ws.send(text);
  }

  /** PCM16 little-endian, one binary frame. */
  sendAudio(samples: Int16Array): void {
    this.ws.send(Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength), { binary: true });
  }

  sendBinary(bytes: Uint8Array): void {
    this.ws.send(bytes, { binary: true });
  }

  started(format: object = { encoding: 'pcm16', sampleRate: 16000 }, output: object = format): void {
    this.sendJson({ type: 'started', format, output });
  }
}

export class FakeStreamServer {
  readonly url: string;
  readonly connections: FakeConnection[] = [];
  #http: Server;
  #wss: WebSocketServer;
  #waiters: Array<(c: FakeConnection) => void> = [];

  private constructor(http: Server, wss: WebSocketServer, url: string) {
    this.#http = http;
    this.#wss = wss;
    this.url = url;
  }

  static async start(options: FakeServerOptions = {}): Promise<FakeStreamServer> {
    const http = createServer((_req, res) => res.writeHead(426).end());
    const wss = new WebSocketServer({ noServer: true });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as AddressInfo;
    const server = new FakeStreamServer(http, wss, `ws://127.0.0.1:${port}/v1/stream`);
    http.on('upgrade', (req, socket, head) => {
      const { refuse } = options;
      if (refuse) {
        const headers = { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(refuse.body)), Connection: 'close', ...refuse.headers };
        const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
        socket.end(`HTTP/1.1 ${refuse.status} Refused\r\n${lines.join('\r\n')}\r\n\r\n${refuse.body}`);
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        const conn = new FakeConnection(ws, req.headers);
        server.connections.push(conn);
        if (options.sendSession ?? true) conn.sendJson({ type: 'session', id: `s_${'0123456789abcdef'.repeat(2)}` });
        for (const w of server.#waiters.splice(0)) w(conn);
      });
    });
    return server;
  }

  /** The next connection to arrive after this call. */
  nextConnection(): Promise<FakeConnection> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  async close(): Promise<void> {
    for (const c of this.#wss.clients) c.terminate();
    this.#wss.close();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }
}
