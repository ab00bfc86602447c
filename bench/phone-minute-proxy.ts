/**
 * A counting proxy in front of the edge, in the bench process: the caller simulators and the media
 * worker are pointed at it instead of the edge, so every WebSocket message and HTTP request the edge
 * would bill is counted without instrumenting the edge or the worker. WebSockets are relayed message
 * by message (text stays text, binary stays binary; the upstream upgrade's refusal status is passed
 * back, as the worker's redial logic reads it); plain HTTP is piped through.
 *
 * Counted per class of socket (by path) and direction: messages, payload bytes, and the WebSocket
 * frame bytes (payload + header; frames a client sends are masked, RFC 6455 5.2). HTTP requests and
 * upgrades are counted with their wall time at the proxy (request in -> response out, handshake in
 * -> upstream open): the time the edge spent handling them, awaits inside its handlers included.
 */
import { request as httpRequest, createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';

/** provider: a phone provider's media stream; media / control: the worker's sockets to the session's object. */
export const SOCKET_CLASSES = ['provider', 'media', 'control', 'other'] as const;
export type SocketClass = (typeof SOCKET_CLASSES)[number];

export interface Flow {
  messages: number;
  payloadBytes: number;
  frameBytes: number;
}
/** `in`: into the edge (client -> edge: billed as incoming messages); `out`: edge -> client. */
export type Counts = Record<SocketClass, { in: Flow; out: Flow; opened: number }> & { httpRequests: number; httpWallMs: number };

export function classify(path: string): SocketClass {
  if (/^\/(twilio|telnyx|plivo)\/media\//.test(path)) return 'provider';
  if (/^\/internal\/sessions\/[^/]+\/media$/.test(path)) return 'media';
  if (/^\/internal\/sessions\/[^/]+\/control$/.test(path)) return 'control';
  return 'other';
}

const flow = (): Flow => ({ messages: 0, payloadBytes: 0, frameBytes: 0 });
export function zeroCounts(): Counts {
  const c = { httpRequests: 0, httpWallMs: 0 } as Counts;
  for (const k of SOCKET_CLASSES) c[k] = { in: flow(), out: flow(), opened: 0 };
  return c;
}

/** a - b, field by field (counters between two snapshots). */
export function diffCounts(a: Counts, b: Counts): Counts {
  const d = zeroCounts();
  d.httpRequests = a.httpRequests - b.httpRequests;
  d.httpWallMs = a.httpWallMs - b.httpWallMs;
  for (const k of SOCKET_CLASSES) {
    d[k].opened = a[k].opened - b[k].opened;
    for (const dir of ['in', 'out'] as const) for (const f of ['messages', 'payloadBytes', 'frameBytes'] as const) d[k][dir][f] = a[k][dir][f] - b[k][dir][f];
  }
  return d;
}

/** One WebSocket frame's bytes on the wire for a payload of `len` (RFC 6455 5.2: 2-byte head, 16/64-bit length, 4-byte mask from clients). */
export function frameBytes(len: number, masked: boolean): number {
  return 2 + (len < 126 ? 0 : len < 65_536 ? 2 : 8) + (masked ? 4 : 0) + len;
}

/** Headers not copied to the upstream request: hop-by-hop ones and the handshake's own. */
const SKIP = /^(host|connection|upgrade|keep-alive|transfer-encoding|te|trailer|proxy-.*|sec-websocket-.*)$/i;

export interface CountingProxy {
  url: string;
  /** A copy of the counters so far. */
  snapshot(): Counts;
  /** Provider media streams open now, and when each opened (performance.now()). */
  openProviderStreams(): number[];
  /** Each closed provider stream's open -> close time, ms. */
  providerStreamMs(): number[];
  stop(): Promise<void>;
}

export async function startCountingProxy(upstreamUrl: string): Promise<CountingProxy> {
  const upstream = new URL(upstreamUrl);
  const counts = zeroCounts();
  const openStreams = new Map<WebSocket, number>();
  const streamMs: number[] = [];
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const sockets = new Set<Socket>();

  const count = (cls: SocketClass, dir: 'in' | 'out', len: number) => {
    const f = counts[cls][dir];
    f.messages++;
    f.payloadBytes += len;
    f.frameBytes += frameBytes(len, dir === 'in');
  };

  const server: Server = createServer((req, res) => {
    counts.httpRequests++;
    const t0 = performance.now();
    res.once('close', () => (counts.httpWallMs += performance.now() - t0));
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !SKIP.test(k)));
    const up = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...headers, host: upstream.host } }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(`proxy: ${err.message}`);
    });
    req.pipe(up);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    counts.httpRequests++;
    const t0 = performance.now();
    const handled = () => (counts.httpWallMs += performance.now() - t0);
    const path = req.url ?? '/';
    const cls = classify(path.split('?')[0] ?? path);
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !SKIP.test(k))) as Record<string, string>;
    const target = new WebSocket(`${upstreamUrl.replace(/^http/, 'ws').replace(/\/+$/, '')}${path}`, { headers, perMessageDeflate: false });
    const early: Array<{ data: WebSocket.RawData; isBinary: boolean }> = [];
    let client: WebSocket | undefined;
    const toClient = (data: WebSocket.RawData, isBinary: boolean) => {
      const buf = data as Buffer;
      count(cls, 'out', buf.length);
      client!.send(buf, { binary: isBinary });
    };
    target.on('message', (data, isBinary) => (client ? toClient(data, isBinary) : early.push({ data, isBinary })));
    target.once('unexpected-response', (_r, res) => {
      handled();
      socket.end(`HTTP/1.1 ${res.statusCode ?? 502} ${res.statusMessage ?? ''}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      res.resume();
      target.terminate();
    });
    target.once('error', () => {
      if (!client) socket.destroy();
    });
    target.once('open', () => {
      handled();
      wss.handleUpgrade(req, socket, head, (ws) => {
        client = ws;
        counts[cls].opened++;
        if (cls === 'provider') openStreams.set(ws, performance.now());
        for (const m of early.splice(0)) toClient(m.data, m.isBinary);
        ws.on('message', (data, isBinary) => {
          const buf = data as Buffer;
          count(cls, 'in', buf.length);
          if (target.readyState === WebSocket.OPEN) target.send(buf, { binary: isBinary });
        });
        const closeOther = (other: WebSocket, code: number, reason: Buffer) => {
          if (other.readyState !== WebSocket.OPEN) return;
          // 1005 (no status) and 1006 (dropped) cannot be sent: pass them on as what they were.
          if (code === 1006) return other.terminate();
          try {
            if (code === 1005) other.close();
            else other.close(code, reason);
          } catch {
            other.terminate();
          }
        };
        ws.on('close', (code, reason) => {
          const t0 = openStreams.get(ws);
          if (t0 !== undefined) {
            openStreams.delete(ws);
            streamMs.push(performance.now() - t0);
          }
          closeOther(target, code, reason);
        });
        target.on('close', (code, reason) => closeOther(ws, code, reason));
        ws.on('error', () => {});
        target.on('error', () => {});
      });
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    snapshot: () => diffCounts(counts, zeroCounts()),
    openProviderStreams: () => [...openStreams.values()],
    providerStreamMs: () => [...streamMs],
    async stop() {
      for (const ws of wss.clients) ws.terminate();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
