/**
 * The handler's requests that the edge answers over the control socket: a dial (`leg.dial`,
 * answered by `leg.dialed` with the leg's id) and a cold transfer (`transfer`, answered by
 * `transfer.result` once the dial is over). Each waits by request id; a dial is bounded in time
 * (placing a call is one REST request), a transfer is not (the human may talk for as long as the
 * call lasts) and ends with the session at the latest.
 */
import type { ControlToEdge, ControlToWorker } from '@switchboard/protocol';
import { LegDialError, type DialOptions } from '../conference/legs-api.ts';

/** How long the edge may take to place a dialled call (its provider's REST API). */
const DIAL_REQUEST_TIMEOUT_MS = 15_000;

export type TransferOutcome = { ok: boolean; reason?: string; detail?: string };

export class EdgeRequests {
  readonly #send: (msg: Extract<ControlToEdge, { type: 'leg.dial' | 'transfer' }>) => void;
  readonly #dialing = new Map<string, { resolve: (legId: string) => void; reject: (err: Error) => void }>();
  readonly #transfers = new Map<string, { resolve: (r: TransferOutcome) => void; failed: () => void }>();
  #next = 0;

  constructor(send: (msg: Extract<ControlToEdge, { type: 'leg.dial' | 'transfer' }>) => void) {
    this.#send = send;
  }

  /** Asks the edge to dial `to`; resolves with the new leg's id once placed. */
  dial(to: string, o: DialOptions): Promise<string> {
    const requestId = `d${++this.#next}`;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#dialing.delete(requestId);
        reject(new LegDialError('timeout', `the edge did not place the call within ${DIAL_REQUEST_TIMEOUT_MS} ms`));
      }, DIAL_REQUEST_TIMEOUT_MS);
      this.#dialing.set(requestId, {
        resolve: (id) => (clearTimeout(timer), resolve(id)),
        reject: (err) => (clearTimeout(timer), reject(err)),
      });
      this.#send({ type: 'leg.dial', requestId, to, ...(o.from ? { from: o.from } : {}), ...(o.provider ? { provider: o.provider } : {}) });
    });
  }

  dialed(msg: Extract<ControlToWorker, { type: 'leg.dialed' }>): void {
    const pending = this.#dialing.get(msg.requestId);
    if (!pending) return;
    this.#dialing.delete(msg.requestId);
    if (msg.legId) pending.resolve(msg.legId);
    else pending.reject(new LegDialError(msg.error?.code ?? 'error', msg.error?.message));
  }

  /** Asks the edge to transfer leg `legId`'s call to `to` (cold); `failed` runs when it did not happen. */
  transfer(legId: string, to: string, o: { from?: string }, failed: () => void): Promise<TransferOutcome> {
    const requestId = `t${++this.#next}`;
    return new Promise((resolve) => {
      this.#transfers.set(requestId, { resolve, failed });
      this.#send({ type: 'transfer', requestId, legId, to, ...(o.from ? { from: o.from } : {}) });
    });
  }

  transferResult(msg: Extract<ControlToWorker, { type: 'transfer.result' }>): void {
    const pending = this.#transfers.get(msg.requestId);
    if (!pending) return;
    this.#transfers.delete(msg.requestId);
    if (!msg.ok) pending.failed();
    pending.resolve({ ok: msg.ok, ...(msg.reason ? { reason: msg.reason } : {}), ...(msg.detail ? { detail: msg.detail } : {}) });
  }

  /** The session ended: every request still waiting ends with it. */
  closeAll(reason: string): void {
    for (const p of this.#dialing.values()) p.reject(new LegDialError('ended', reason));
    for (const t of this.#transfers.values()) t.resolve({ ok: false, reason: 'ended', detail: reason });
    this.#dialing.clear();
    this.#transfers.clear();
  }
}
