/**
 * Where in the 20 ms packet period each load peer sends. Independent clients have independent
 * phases, so a server sees their packets spread over the period; peers driven from one clock in
 * lock-step would instead hand it every session's packet in the same millisecond (and, since a
 * reply starts on arrival, line every session's reply clock up too), a burst no real deployment
 * sees. So a load process's clock ticks `slots` times per period and each tick is one slot: peer
 * i sends in slot i mod `slots`, once per period, its packets `periodMs / slots` apart from the
 * next slot's.
 */
export class SendSlots {
  readonly slots: number;
  /** The clock's period: one slot's share of the packet period (ms). */
  readonly tickMs: number;

  /** `slots` = min(peers, maxSlots), at least 1. */
  constructor(peers: number, periodMs = 20, maxSlots = 10) {
    if (!(periodMs > 0)) throw new Error(`periodMs must be positive, not ${periodMs}`);
    if (!Number.isInteger(maxSlots) || maxSlots < 1) throw new Error(`maxSlots must be a positive integer, not ${maxSlots}`);
    this.slots = Math.max(1, Math.min(Math.floor(peers), maxSlots));
    this.tickMs = periodMs / this.slots;
  }

  /** The slot clock tick `clockTick` serves, and the packet period it falls in. */
  at(clockTick: number): { slot: number; period: number } {
    return { slot: clockTick % this.slots, period: Math.floor(clockTick / this.slots) };
  }

  /** Whether peer `peerIndex` sends in `slot`. */
  sendsIn(peerIndex: number, slot: number): boolean {
    return peerIndex % this.slots === slot;
  }
}
