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

/** Decided claims: the SQS message can be deleted. */
export const isDecided = (o: ClaimOutcome) => o.kind !== 'transient';

/**
 * Dials the session's control WebSocket on the edge with the job's control token. The upgrade's
 * status is the claim decision: 101 wins the session.
 */
export function dialControl(edgeUrl: string, job: SessionJob, workerId: string, timeoutMs = 10_000): Promise<ClaimOutcome> {
  const url = `${edgeUrl.replace(/^http/, 'ws')}/internal/sessions/${job.sessionId}/control`;
  const ws = new WebSocket(url, {
    headers: { Authorization: `Bearer ${job.controlToken}`, 'X-Worker-Id': workerId },
    handshakeTimeout: timeoutMs,
    perMessageDeflate: false,
  });
  return new Promise((resolve) => {
    let settled = false;
    const settle = (o: ClaimOutcome) => {
      if (settled) return;
      settled = true;
      resolve(o);
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
    ws.once('open', () => settle({ kind: 'claimed', channel: new ControlChannel(ws) }));
    ws.once('error', (err) => settle({ kind: 'transient', error: err.message }));
  });
}

/** The claimed session's control WebSocket: typed, parsed messages both ways. */
export class ControlChannel {
  private readonly listeners = new Set<(msg: ControlToWorker) => void>();
  private readonly closeListeners = new Set<(code: number, reason: string) => void>();
  private early: ControlToWorker[] = [];
  private readonly ws: WebSocket;

  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const parsed = parseControlToWorker(data.toString());
      if (!parsed.ok) {
        console.warn(`control channel: ${parsed.error}`);
        return;
      }
      if (this.listeners.size === 0) this.early.push(parsed.value);
      for (const l of this.listeners) l(parsed.value);
    });
    ws.on('close', (code, reason) => {
      for (const l of this.closeListeners) l(code, reason.toString());
      this.listeners.clear();
      this.closeListeners.clear();
    });
    ws.on('error', () => {
      // 'close' follows and reports it.
    });
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
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(msg: ControlToEdge): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  close(code = 1000, reason = ''): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason.slice(0, 120));
  }
}
