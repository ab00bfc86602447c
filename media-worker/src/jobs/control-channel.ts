import WebSocket from 'ws';
import {
  parseControlToWorker,
  type ControlToEdge,
  type ControlToWorker,
  type SessionJob,
} from '@switchboard/protocol';

export type ClaimOutcome =
  | { kind: 'claimed'; channel: ControlChannel }
  /** The edge decided: 409 (another worker has it), 410 (expired or ended), 404, 401. */
  | { kind: 'refused'; status: number; body: string }
  /** No decision (network error, 5xx): the job stays on the queue for a retry. */
  | { kind: 'transient'; error: string };

/** `early`: frames that arrived between the upgrade and the channel taking the socket over. */
type DialResult = { kind: 'open'; ws: WebSocket; early: string[] } | { kind: 'refused'; status: number; body: string } | { kind: 'transient'; error: string };

/** Delays between attempts to dial back in after a drop; they fit the edge's 5 s grace period. */
const RESUME_BACKOFF_MS = [100, 300, 600, 1000, 1500];
/** Messages kept while dialing back in (the rest are dropped: media is real-time). */
const MAX_BUFFERED = 200;

function controlUrl(edgeUrl: string, sessionId: string): string {
  return `${edgeUrl.replace(/^http/, 'ws')}/internal/sessions/${sessionId}/control`;
}

/** One WebSocket dial of the control endpoint; the upgrade status is the edge's decision. */
function dial(url: string, token: string, workerId: string, timeoutMs: number): Promise<DialResult> {
  const ws = new WebSocket(url, {
    headers: { Authorization: `Bearer ${token}`, 'X-Worker-Id': workerId },
    handshakeTimeout: timeoutMs,
    perMessageDeflate: false,
  });
  return new Promise((resolve) => {
    let settled = false;
    const settle = (r: DialResult) => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        settle(status >= 500 || status === 429 ? { kind: 'transient', error: `edge answered ${status}` } : { kind: 'refused', status, body });
      });
      res.on('error', () => settle({ kind: 'transient', error: 'edge response failed' }));
    });
    ws.once('open', () => {
      // The edge sends right after the upgrade; hold those frames until a listener is attached.
      const early: string[] = [];
      const hold = (data: WebSocket.RawData, isBinary: boolean) => {
        if (!isBinary) early.push(data.toString());
      };
      ws.on('message', hold);
      (ws as WebSocket & { releaseEarly?: () => void }).releaseEarly = () => ws.off('message', hold);
      settle({ kind: 'open', ws, early });
    });
    ws.once('error', (err) => settle({ kind: 'transient', error: err.message }));
  });
}

/**
 * Claims a session by dialing its control WebSocket on the edge with the job's control token.
 * 101 wins the session.
 */
export async function dialControl(edgeUrl: string, job: SessionJob, workerId: string, timeoutMs = 10_000): Promise<ClaimOutcome> {
  const url = controlUrl(edgeUrl, job.sessionId);
  const r = await dial(url, job.controlToken, workerId, timeoutMs);
  if (r.kind !== 'open') return r;
  return { kind: 'claimed', channel: new ControlChannel(r.ws, r.early, (token) => dial(url, token, workerId, 2000)) };
}

/**
 * The claimed session's control WebSocket: typed, parsed messages both ways. When the socket
 * drops without the edge ending the session, it dials back in with the session's resume token
 * (from the `session` message) and carries on; listeners see one continuous channel. Only when
 * that fails, or the edge closes it normally, do close listeners run.
 */
export class ControlChannel {
  private readonly listeners = new Set<(msg: ControlToWorker) => void>();
  private readonly closeListeners = new Set<(code: number, reason: string) => void>();
  private early: ControlToWorker[] = [];
  private ws: WebSocket;
  private readonly redial: (token: string) => Promise<DialResult>;
  private resumeToken: string | null = null;
  private closedByUs = false;
  private finished = false;
  private resuming = false;
  private buffered: string[] = [];
  /** Resolves when the channel has ended for good (`finish`). */
  private readonly ended: Promise<void>;
  private markEnded!: () => void;
  /** How often the channel dialed back in after a drop. */
  resumes = 0;

  constructor(ws: WebSocket, early: string[], redial: (token: string) => Promise<DialResult>) {
    this.ws = ws;
    this.redial = redial;
    this.ended = new Promise((resolve) => (this.markEnded = resolve));
    this.attach(ws, early);
  }

  private attach(ws: WebSocket, early: string[]): void {
    (ws as WebSocket & { releaseEarly?: () => void }).releaseEarly?.();
    for (const text of early) this.receive(text);
    ws.on('message', (data, isBinary) => {
      if (!isBinary) this.receive(data.toString());
    });
    ws.on('close', (code, reason) => {
      if (ws !== this.ws) return;
      // 1000 from the edge means the session is over; anything else may be a transient drop.
      if (this.closedByUs || code === 1000 || !this.resumeToken) this.finish(code, reason.toString());
      else void this.resume(code, reason.toString());
    });
    ws.on('error', () => {
      // 'close' follows and reports it.
    });
  }

  private receive(text: string): void {
    const parsed = parseControlToWorker(text);
    if (!parsed.ok) {
      console.warn(`control channel: ${parsed.error}`);
      return;
    }
    if (parsed.value.type === 'session') this.resumeToken = parsed.value.resumeToken;
    if (this.listeners.size === 0) this.early.push(parsed.value);
    for (const l of this.listeners) l(parsed.value);
  }

  private async resume(code: number, reason: string): Promise<void> {
    this.resuming = true;
    for (const delay of RESUME_BACKOFF_MS) {
      await new Promise((r) => setTimeout(r, delay));
      if (this.closedByUs) break;
      const r = await this.redial(this.resumeToken!);
      if (r.kind === 'open') {
        if (this.closedByUs) {
          r.ws.close(1000);
          break;
        }
        this.ws = r.ws;
        this.attach(r.ws, r.early);
        this.resuming = false;
        this.resumes++;
        for (const m of this.buffered.splice(0)) r.ws.send(m);
        return;
      }
      if (r.kind === 'refused') break;
    }
    this.resuming = false;
    this.finish(code, reason);
  }

  private finish(code: number, reason: string): void {
    if (this.finished) return;
    this.finished = true;
    this.markEnded();
    this.buffered = [];
    for (const l of this.closeListeners) l(code, reason);
    this.listeners.clear();
    this.closeListeners.clear();
  }

  /** Messages that arrived before the first listener are delivered to it. */
  onMessage(cb: (msg: ControlToWorker) => void): void {
    this.listeners.add(cb);
    const early = this.early;
    this.early = [];
    for (const m of early) cb(m);
  }

  onClose(cb: (code: number, reason: string) => void): void {
    this.closeListeners.add(cb);
  }

  get open(): boolean {
    return !this.finished && (this.resuming || this.ws.readyState === WebSocket.OPEN);
  }

  send(msg: ControlToEdge): void {
    const text = JSON.stringify(msg);
    if (this.resuming) {
      if (this.buffered.length < MAX_BUFFERED) this.buffered.push(text);
    } else if (this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
  }

  /**
   * Ends the channel for good (the session is over). Resolves once the socket has closed: after
   * the close handshake, so what was sent before (the `end` message) has reached the edge even if
   * the process exits next (SIGTERM), or after `timeoutMs`, when the socket is dropped.
   */
  close(code = 1000, reason = '', timeoutMs = 2000): Promise<void> {
    this.closedByUs = true;
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason.slice(0, 120));
    if (this.resuming || this.ws.readyState === WebSocket.CLOSED) this.finish(code, reason);
    if (this.finished) return Promise.resolve();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const dropped = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.ws.terminate();
        this.finish(code, reason);
        resolve();
      }, timeoutMs);
    });
    return Promise.race([this.ended, dropped]).finally(() => clearTimeout(timer));
  }
}
