/**
 * Asks the edge for fresh server-side TURN credentials before the current ones expire, so that
 * any later gathering (ICE restart, a new allocation) authenticates with valid ones. Fires at
 * `expiresAt - lead`, lead = the larger of `minLeadMs` and a tenth of the remaining lifetime.
 */
export class IceCredentialRefresher {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly request: () => void;
  private readonly now: () => number;
  private readonly minLeadMs: number;

  constructor(opts: { request: () => void; now?: () => number; minLeadMs?: number }) {
    this.request = opts.request;
    this.now = opts.now ?? Date.now;
    this.minLeadMs = opts.minLeadMs ?? 30_000;
  }

  /** (Re)arms for credentials expiring at `expiresAt` (epoch ms); null means they never expire. */
  schedule(expiresAt: number | null): void {
    this.stop();
    if (expiresAt === null) return;
    const remaining = expiresAt - this.now();
    const lead = Math.max(this.minLeadMs, remaining / 10);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.request();
    }, Math.max(0, remaining - lead));
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
