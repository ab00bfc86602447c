/**
 * The worker's media socket for one phone or stream session: a WebSocket to the session's
 * Durable Object (`GET /internal/sessions/{id}/media`, `Authorization: Bearer <resumeToken>`),
 * which relays the peer's frames (a provider's media stream, a stream client's socket) verbatim
 * both ways. The socket transport owns it. A drop that the edge did not decide (anything but a
 * normal close) is dialled again with backoff for as long as the edge's control grace lasts;
 * frames meanwhile are dropped, not queued (media is real time; the engine's playout accounting
 * learns of the gap from the acknowledgements that never come).
 */
import WebSocket from 'ws';
import type { WireMessage } from './serializer.ts';

/** Delays between dials after a drop; together they span the edge's 5 s control grace. */
const REDIAL_BACKOFF_MS = [50, 200, 500, 1000, 1500, 2000];
const DIAL_TIMEOUT_MS = 5000;

export interface MediaSocketOptions {
  /** The edge's base URL (http(s)://...); the socket goes to its ws(s) twin. */
  edgeUrl: string;
  sessionId: string;
  /** The session's resume token (from the edge's `session` message). */
  token: string;
  workerId: string;
  onMessage(data: WireMessage): void;
  /** The socket is gone for good (the edge closed it normally, refused a dial, or redials failed). */
  onGone(reason: string): void;
  log(msg: string): void;
}

/** `early`: stops holding the frames that arrived since the upgrade and returns them. */
export type DialOutcome = { ok: true; ws: WebSocket; early: () => WireMessage[] } | { ok: false; status: number; error: string };

export function mediaSocketUrl(edgeUrl: string, sessionId: string): string {
  return `${edgeUrl.replace(/\/+$/, '').replace(/^http/, 'ws')}/internal/sessions/${sessionId}/media`;
}

export class MediaSocket {
  readonly #o: MediaSocketOptions;
  #ws: WebSocket | null = null;
  #closed = false;
  #gone = false;
  /** How often the socket was dialled again after a drop. */
  redials = 0;
  /** Frames dropped because no socket was open. */
  dropped = 0;

  constructor(o: MediaSocketOptions) {
    this.#o = o;
  }

  /** The first dial; rejects when the edge refuses it or it cannot be made. */
  async open(): Promise<void> {
    const r = await this.#dial();
    if (!r.ok) throw new Error(`media socket: ${r.error}`);
    this.#attach(r.ws, r.early());
  }

  /** Sends one frame (text or binary); dropped while no socket is open. */
  send(data: WireMessage): void {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      this.dropped++;
      return;
    }
    ws.send(data, { binary: typeof data !== 'string' });
  }

  get isOpen(): boolean {
    return this.#ws?.readyState === WebSocket.OPEN;
  }

  /** Closes for good; resolves once the socket has closed (or after 1 s). */
  close(): Promise<void> {
    this.#closed = true;
    const ws = this.#ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 1000);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.close(1000);
    });
  }

  #attach(ws: WebSocket, early: WireMessage[]): void {
    this.#ws = ws;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (ws !== this.#ws) return;
      this.#o.onMessage(isBinary ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data.toString());
    });
    for (const m of early) this.#o.onMessage(m);
    ws.on('close', (code, reason) => {
      if (ws !== this.#ws || this.#closed) return;
      this.#ws = null;
      if (code === 1000) this.#goneFor(`the edge closed the media socket: ${reason.toString() || 'session over'}`);
      else void this.#redial(code);
    });
    ws.on('error', () => {
      // 'close' follows and decides.
    });
  }

  async #redial(code: number): Promise<void> {
    this.#o.log(`media socket dropped (${code}); dialling again`);
    for (const delay of REDIAL_BACKOFF_MS) {
      await new Promise((r) => setTimeout(r, delay));
      if (this.#closed) return;
      const r = await this.#dial();
      if (r.ok) {
        if (this.#closed) {
          r.ws.close(1000);
          return;
        }
        this.redials++;
        this.#attach(r.ws, r.early());
        return;
      }
      if (r.status >= 400 && r.status < 500) return this.#goneFor(`the edge refused the media socket: ${r.error}`);
    }
    this.#goneFor(`the media socket dropped (${code}) and could not be dialled again`);
  }

  #goneFor(reason: string): void {
    if (this.#gone || this.#closed) return;
    this.#gone = true;
    this.#o.onGone(reason);
  }

  #dial(): Promise<DialOutcome> {
    const o = this.#o;
    const ws = new WebSocket(mediaSocketUrl(o.edgeUrl, o.sessionId), {
      headers: { Authorization: `Bearer ${o.token}`, 'X-Worker-Id': o.workerId },
      handshakeTimeout: DIAL_TIMEOUT_MS,
      perMessageDeflate: false,
    });
    return new Promise((resolve) => {
      let settled = false;
      const settle = (r: DialOutcome) => {
        if (settled) return;
        settled = true;
        resolve(r);
      };
      // The edge sends the stream's `start` right after the upgrade: listen from the first byte.
      const early: WireMessage[] = [];
      const hold = (data: Buffer, isBinary: boolean) => early.push(isBinary ? new Uint8Array(data) : data.toString());
      ws.on('message', hold);
      ws.once('open', () =>
        settle({
          ok: true,
          ws,
          early: () => {
            ws.off('message', hold);
            return early;
          },
        }),
      );
      ws.once('unexpected-response', (_req, res) => {
        settle({ ok: false, status: res.statusCode ?? 0, error: `edge answered ${res.statusCode}` });
        res.resume();
        ws.terminate();
      });
      ws.once('error', (err) => settle({ ok: false, status: 0, error: err.message }));
    });
  }
}
