/**
 * Keeps one call's Realtime connection: opens the first one, and when one is lost mid-call opens
 * another (reconnect-policy.ts says whether and how often) and sets it up as a session that
 * knows the conversation (`restore()`: session.update, then the conversation log as items, as a
 * takeover does). The owner hears of the loss (to settle what the lost session had in flight), of
 * the new connection, or that the call has no model any more.
 *
 * The first connection is not retried: a failure there (a wrong key, an unreachable URL) is
 * reported at once, before the caller has heard anything. Reopening stops at once when close()
 * is called or the session's signal aborts: nothing is reopened for a call that ended.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type Connection, type Loss } from './connection.ts';
import { FATAL_ERROR_CODES, MAX_LOSSES_PER_CALL, MAX_REOPEN_TIMEOUT_MS, RECONNECT_DELAYS_MS, isTransientConnectError, isTransientLoss } from './reconnect-policy.ts';
import type { ClientEvent } from './wire.ts';

export interface SupervisorOptions {
  url: string;
  apiKey: string;
  /** The first connection's deadline (ms); reopening uses at most MAX_REOPEN_TIMEOUT_MS. */
  connectTimeoutMs: number;
  /** The session's: aborted, nothing more is opened. */
  signal: AbortSignal;
  /** The events that set up a reopened session, sent first on it. */
  restore: () => ClientEvent[];
  /** The owner's reader is paused (backpressure): a new connection starts paused too. */
  paused: () => boolean;
}

export interface Restored {
  /** Opening attempts this recovery took. */
  attempts: number;
  /** From the loss to the new session being set up (ms). */
  gapMs: number;
}

export interface SupervisorHooks {
  /** A server message of the current connection. */
  onMessage(text: string): void;
  /** The connection was lost and another is being opened: `why` it was lost. */
  onLost(why: string): void;
  /** A new connection carries the call, set up with restore()'s events. */
  onRestored(restored: Restored): void;
  /** The call has no model any more (not reopened, or reopening failed): why. */
  onFailed(why: string): void;
}

export class ConnectionSupervisor {
  readonly #o: SupervisorOptions;
  readonly #hooks: SupervisorHooks;
  readonly #stop = new AbortController();
  readonly #signal: AbortSignal;
  #conn: Connection | undefined;
  #losses = 0;
  #reconnects = 0;
  /** OpenAI's last error message on the current connection, named when it is lost. */
  #lastError: string | undefined;
  /** A fatal error code seen on the current connection: its loss is not recovered. */
  #fatalError: string | undefined;

  constructor(o: SupervisorOptions, hooks: SupervisorHooks) {
    this.#o = o;
    this.#hooks = hooks;
    this.#signal = AbortSignal.any([o.signal, this.#stop.signal]);
  }

  /** The open connection; undefined before the first opens, while another is being opened, and after close(). */
  get conn(): Connection | undefined {
    return this.#conn;
  }

  /** Connections lost so far (recovered or being recovered): a change says the model session asking something is gone. */
  get losses(): number {
    return this.#losses;
  }

  get reconnects(): number {
    return this.#reconnects;
  }

  /** Opens the first connection and sends `setup` on it; rejects with the ConnectError when it fails. */
  async start(setup: readonly ClientEvent[]): Promise<void> {
    const conn = this.#open(this.#o.connectTimeoutMs);
    await conn.opened;
    this.#install(conn, setup);
  }

  /** An `error` event of the current connection. */
  noteError(code: string | undefined, message: string): void {
    this.#lastError = message.slice(0, 300);
    if (code !== undefined && FATAL_ERROR_CODES.has(code)) this.#fatalError = code;
  }

  close(): void {
    this.#stop.abort();
    this.#conn?.close();
    this.#conn = undefined;
  }

  #open(timeoutMs: number): Connection {
    let lost = false;
    const conn = connect({
      url: this.#o.url,
      apiKey: this.#o.apiKey,
      timeoutMs,
      signal: this.#signal,
      onMessage: (text) => {
        if (!lost && !this.#signal.aborted) this.#hooks.onMessage(text);
      },
      onLost: (loss) => {
        lost = true;
        if (conn === this.#conn) void this.#recover(loss);
      },
    });
    return conn;
  }

  #install(conn: Connection, setup: readonly ClientEvent[]): void {
    // The call ended while it opened.
    if (this.#signal.aborted) return conn.close();
    this.#conn = conn;
    this.#lastError = undefined;
    this.#fatalError = undefined;
    if (this.#o.paused()) conn.pause();
    for (const e of setup) conn.send(e);
  }

  async #recover(loss: Loss): Promise<void> {
    this.#conn = undefined;
    if (this.#signal.aborted) return;
    const why = this.#lastError ? `${loss.message}; OpenAI's last error: ${this.#lastError}` : loss.message;
    if (!isTransientLoss(loss, this.#fatalError)) return this.#hooks.onFailed(why);
    if (++this.#losses > MAX_LOSSES_PER_CALL) {
      return this.#hooks.onFailed(`${why}; not reconnecting: the connection was lost ${this.#losses} times in this call (at most ${MAX_LOSSES_PER_CALL} are recovered)`);
    }
    this.#hooks.onLost(why);
    const t0 = performance.now();
    let failure = '';
    for (const [i, delay] of RECONNECT_DELAYS_MS.entries()) {
      try {
        await sleep(delay, undefined, { signal: this.#signal });
      } catch {
        return; // the call ended
      }
      const conn = this.#open(Math.min(this.#o.connectTimeoutMs, MAX_REOPEN_TIMEOUT_MS));
      try {
        await conn.opened;
      } catch (err) {
        if (this.#signal.aborted) return;
        failure = err instanceof Error ? err.message : String(err);
        if (isTransientConnectError(err)) continue;
        break;
      }
      this.#install(conn, this.#o.restore());
      if (!this.#conn) return;
      this.#reconnects++;
      return this.#hooks.onRestored({ attempts: i + 1, gapMs: Math.round(performance.now() - t0) });
    }
    this.#hooks.onFailed(`${why}; reconnecting failed: ${failure}`);
  }
}
