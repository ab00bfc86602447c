/**
 * ECS task scale-in protection, set through the ECS agent's endpoint from inside the task:
 * `PUT ${ECS_AGENT_URI}/task-protection/v1/state` with `{"ProtectionEnabled": true, "ExpiresInMinutes": N}`
 * or `{"ProtectionEnabled": false}`. A protected task is not picked by service scale-in or by a
 * deployment; protection lapses by itself after N minutes (1-2880), and a new PUT while protected
 * resets the expiry. Without ECS_AGENT_URI (a local run) every call here is a no-op.
 *
 * Responses, as the agent writes them: 200 `{"protection": {"ProtectionEnabled", "ExpirationDate",
 * "TaskArn"}}`; 200 `{"failure": {"Arn", "Reason", "Detail"}}` when ECS refused (e.g. TASK_NOT_VALID
 * for a task outside a service); 4xx/5xx `{"requestID"?, "error": {"Arn"?, "Code", "Message"}}`.
 */

/** Settings; times in ms. Only `agentUri` is needed: the rest have production defaults. */
export interface TaskProtectionOptions {
  /** ECS_AGENT_URI ('' or undefined: no-op). */
  agentUri: string | undefined;
  /** ExpiresInMinutes sent with each enable (ECS allows 1-2880). Default 60. */
  expiresInMinutes?: number;
  /** How long the worker stays idle before protection is dropped (against flapping). Default 30 s. */
  idleDisableMs?: number;
  /** Re-enable this often while busy. Default: half of expiresInMinutes. */
  renewEveryMs?: number;
  /** First retry delay after a transient failure; doubles up to retryMaxMs. Defaults 1 s, 60 s. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Per-request timeout. Default 5 s. */
  requestTimeoutMs?: number;
  log?: (msg: string) => void;
  fetchFn?: typeof fetch;
}

type PutResult =
  | { ok: true; expiration: string | null }
  /** `transient`: worth a quick retry (network, timeout, 5xx, 429, unreadable body). */
  | { ok: false; transient: boolean; why: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Reads the agent's documented response shapes; anything else is reported as unreadable. */
export function parseProtectionResponse(status: number, body: unknown): PutResult {
  const b = isObject(body) ? body : {};
  if (isObject(b.error)) {
    const why = `HTTP ${status} ${str(b.error.Code) || 'error'}: ${str(b.error.Message)}`;
    return { ok: false, transient: status >= 500 || status === 429, why };
  }
  if (isObject(b.failure)) {
    // ECS answered and refused (e.g. TASK_NOT_VALID): retrying soon gives the same answer.
    return { ok: false, transient: false, why: `failure ${str(b.failure.Reason)}: ${str(b.failure.Detail)}`.trim() };
  }
  if (status === 200 && isObject(b.protection) && typeof b.protection.ProtectionEnabled === 'boolean') {
    return { ok: true, expiration: str(b.protection.ExpirationDate) || null };
  }
  return { ok: false, transient: status >= 500 || status === 429 || status === 200, why: `HTTP ${status}, unexpected body` };
}

/**
 * Keeps the task protected while the worker is busy. The worker reports its busy count
 * (`setBusy`); this enables protection at once on 0 -> >0, renews it while busy, and drops it
 * after `idleDisableMs` idle. One request is in flight at a time; failures are logged and
 * retried, never thrown.
 */
export class TaskProtection {
  private readonly url: string | null;
  private readonly minutes: number;
  private readonly idleMs: number;
  private readonly renewMs: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly timeoutMs: number;
  private readonly log: (msg: string) => void;
  private readonly fetchFn: typeof fetch;

  private busy = 0;
  /** What the agent should hold: true from busy until the idle debounce (or drain) ends it. */
  private want = false;
  /** What the agent last confirmed. */
  private applied = false;
  /** The renewal is due: send enable again though `applied` is already true. */
  private renewDue = false;
  private draining = false;
  private closed = false;
  private inFlight = false;
  private failures = 0;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private renewTimer: ReturnType<typeof setTimeout> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private settledWaiters: Array<() => void> = [];

  constructor(opts: TaskProtectionOptions) {
    this.url = opts.agentUri ? `${opts.agentUri.replace(/\/+$/, '')}/task-protection/v1/state` : null;
    this.minutes = Math.min(2880, Math.max(1, Math.round(opts.expiresInMinutes ?? 60)));
    this.idleMs = opts.idleDisableMs ?? 30_000;
    this.renewMs = opts.renewEveryMs ?? (this.minutes * 60_000) / 2;
    this.retryBaseMs = opts.retryBaseMs ?? 1_000;
    this.retryMaxMs = opts.retryMaxMs ?? 60_000;
    this.timeoutMs = opts.requestTimeoutMs ?? 5_000;
    this.log = opts.log ?? ((m) => console.log(m));
    this.fetchFn = opts.fetchFn ?? fetch;
  }

  /** Whether there is an agent to talk to (false locally). */
  get enabled(): boolean {
    return this.url !== null;
  }

  /** The number of live sessions plus claims in flight. */
  setBusy(n: number): void {
    if (!this.url || this.closed) return;
    this.busy = n;
    if (n > 0) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
      if (!this.want) this.setWant(true);
    } else if (this.want && this.draining) {
      this.stopWanting();
    } else if (this.want && !this.idleTimer) {
      this.idleTimer = setTimeout(() => {
        this.idleTimer = undefined;
        if (this.busy === 0) this.stopWanting();
      }, this.idleMs);
      this.idleTimer.unref();
    }
  }

  /** Shutdown began: no new sessions will come, so protection is dropped as soon as busy is 0. */
  drain(): void {
    if (!this.url || this.closed) return;
    this.draining = true;
    if (this.busy === 0 && this.want) this.stopWanting();
  }

  /**
   * The worker is done: drops protection (if held) and waits for that, up to `timeoutMs`,
   * then stops every timer. Never rejects.
   */
  async close(timeoutMs = 5_000): Promise<void> {
    if (!this.url || this.closed) return;
    this.draining = true;
    this.busy = 0;
    if (this.want || this.applied) this.stopWanting();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.settled(), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    this.closed = true;
    for (const t of [this.idleTimer, this.renewTimer, this.retryTimer]) clearTimeout(t);
  }

  private stopWanting(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    clearTimeout(this.renewTimer);
    this.renewTimer = undefined;
    this.renewDue = false;
    this.setWant(false);
  }

  private setWant(v: boolean): void {
    this.want = v;
    // A retry pending in backoff was for the old state; the new one is sent now.
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.failures = 0;
    this.kick();
  }

  private isSettled(): boolean {
    return !this.inFlight && this.want === this.applied && !this.renewDue;
  }

  private settled(): Promise<void> {
    return this.isSettled() ? Promise.resolve() : new Promise((r) => this.settledWaiters.push(r));
  }

  /** Sends what `want` says, unless a request or a retry backoff is already under way. */
  private kick(): void {
    if (this.inFlight || this.retryTimer || this.closed) return;
    if (this.isSettled()) {
      for (const r of this.settledWaiters.splice(0)) r();
      return;
    }
    void this.step();
  }

  private async step(): Promise<void> {
    const enable = this.want;
    this.inFlight = true;
    const r = await this.put(enable);
    this.inFlight = false;
    if (this.closed) return;
    if (r.ok) {
      this.failures = 0;
      this.applied = enable;
      if (enable) {
        this.renewDue = false;
        this.log(`task protection on until ${r.expiration ?? `~${this.minutes} min from now`}`);
        this.scheduleRenewal();
      } else {
        this.log('task protection off');
      }
    } else if (r.transient) {
      this.failures++;
      const delay = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (this.failures - 1));
      this.log(`task protection ${enable ? 'enable' : 'disable'} failed (${r.why}); retry ${this.failures} in ${delay} ms`);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.kick();
      }, delay);
      this.retryTimer.unref();
      return;
    } else {
      // Refused for a reason a quick retry will not fix (IAM, not in a service, bad request).
      // An enable is tried again at the renewal interval; a disable is left to lapse by expiry.
      this.log(`task protection ${enable ? 'enable' : 'disable'} refused (${r.why}); not retrying soon`);
      // `applied` is set as if it had worked, so the loop rests until then.
      this.applied = enable;
      if (enable) this.scheduleRenewal();
    }
    this.kick();
  }

  private scheduleRenewal(): void {
    clearTimeout(this.renewTimer);
    this.renewTimer = setTimeout(() => {
      this.renewTimer = undefined;
      if (!this.want) return;
      this.renewDue = true;
      this.kick();
    }, this.renewMs);
    this.renewTimer.unref();
  }

  private async put(enable: boolean): Promise<PutResult> {
    const body = enable ? { ProtectionEnabled: true, ExpiresInMinutes: this.minutes } : { ProtectionEnabled: false };
    try {
      const res = await this.fetchFn(this.url ?? '', {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await res.text();
      let json: unknown = null;
      try {
        json = JSON.parse(text);
      } catch {
        // Left null: reported as an unexpected body below.
      }
      return parseProtectionResponse(res.status, json);
    } catch (err) {
      return { ok: false, transient: true, why: err instanceof Error ? err.message : String(err) };
    }
  }
}
