/**
 * A real-time frame clock: tick k is due at origin + k * frameMs, and each listener is called
 * once per tick. One clock can serve every output of a process (FrameClock.shared), so N calls
 * wake the event loop once per frame and send their packets in one burst, instead of N timers at
 * unrelated phases each waking the loop and sending alone. A burst of sends also wakes each
 * receiving process once per frame rather than once per packet, and on loopback (the bench)
 * that wake-up is paid by the sender: at 20 echo sessions the worker's CPU per session fell by
 * about a seventh (`npm run bench`, A/B).
 *
 * Constraints it encodes:
 * - Drift-free: each timeout is armed with delay = due - now, so lateness never accumulates.
 * - Never early: Node arms timers from the event loop's cached time and truncates to whole ms,
 *   so a timer can fire a little before its tick; the clock then waits out the rest.
 * - Skip-ahead after a stall: when a tick fires more than `maxLagFrames` late, the clock jumps to
 *   the present tick instead of firing the backlog back to back. Within that bound, ticks that
 *   are behind fire one after another (catch-up), each on its own timer turn.
 * - Idle costs nothing: with no listeners there is no timer.
 * - One listener's exception does not stop the others: it goes to `onError` (default: logged).
 * - Listeners run in the order they were added, so each keeps the same place in the burst from
 *   tick to tick (its packets keep a steady spacing).
 */

/**
 * Called on each tick with the tick's index and the clock's reading when the tick fired. Returns
 * true when it sent a packet (then send observers hear how late it finished), else nothing.
 */
export type FrameClockListener = (tick: number, nowMs: number) => boolean | void;

/** Told, for each packet a listener sent on a tick, how long after the tick's due time the listener returned (ms). */
export type SendObserver = (lateMs: number) => void;

export interface FrameClockOptions {
  /** Tick period. Default 20. */
  frameMs?: number;
  /** Clock in ms. Default performance.now. */
  now?: () => number;
  /** Time of tick 0 on `now`'s scale. Default: now() at construction. */
  originMs?: number;
  /** Ticks the clock may fall behind before it skips ahead. Default 5 (100 ms at 20 ms frames). */
  maxLagFrames?: number;
  /** Where a listener's exception goes. Default console.error. */
  onError?: (err: unknown) => void;
}

const shared = new Map<number, FrameClock>();
/** Wall-clock phase of the shared clocks (setSharedOffset); null: tick 0 at performance.now() 0. */
let sharedOffsetMs: number | null = null;

/** Origin (on performance.now's scale) of a shared clock of `frameMs` ticks. */
function sharedOriginMs(frameMs: number): number {
  return sharedOffsetMs === null ? 0 : wallPhaseOrigin(sharedOffsetMs, frameMs, performance.timeOrigin);
}

/**
 * The origin in [0, frameMs) on a clock that reads 0 at wall time `timeOrigin` whose ticks fall
 * at wall times ≡ offsetMs (mod frameMs).
 */
export function wallPhaseOrigin(offsetMs: number, frameMs: number, timeOrigin: number): number {
  return (((offsetMs - timeOrigin) % frameMs) + frameMs) % frameMs;
}

export class FrameClock {
  readonly frameMs: number;
  readonly originMs: number;
  readonly now: () => number;
  readonly #maxLagMs: number;
  /** Where listeners' exceptions go (outputs report their own out-of-tick sends' here too). */
  readonly onError: (err: unknown) => void;
  readonly #listeners = new Set<FrameClockListener>();
  readonly #sendObservers = new Set<SendObserver>();
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** Index of the next tick to fire. */
  #next = 0;

  /**
   * The process-wide clock for `frameMs` frames, on performance.now() with tick 0 at its origin:
   * every output that ticks at that period shares its timer.
   */
  static shared(frameMs = 20): FrameClock {
    let c = shared.get(frameMs);
    if (!c) shared.set(frameMs, (c = new FrameClock({ frameMs, originMs: sharedOriginMs(frameMs) })));
    return c;
  }

  /**
   * Puts the process's shared clocks' ticks at `offsetMs` past each multiple of their period on
   * the wall clock (performance.timeOrigin + now), before any is made. Worker processes on one
   * host given offsets spread over the period (FRAME_CLOCK_OFFSET_MS) tick apart, rather than at
   * whatever phase their start times happened to give them: two ticks' bursts at once compete for
   * the same cores. Throws once a shared clock exists (its listeners keep its phase).
   */
  static setSharedOffset(offsetMs: number): void {
    if (shared.size > 0) throw new Error('FrameClock.setSharedOffset: a shared clock already ticks');
    if (!Number.isFinite(offsetMs) || offsetMs < 0) throw new RangeError(`frame clock offset must be a non-negative number of ms, not ${offsetMs}`);
    sharedOffsetMs = offsetMs;
  }

  constructor(options: FrameClockOptions = {}) {
    this.frameMs = options.frameMs ?? 20;
    if (!(this.frameMs > 0) || !Number.isFinite(this.frameMs)) throw new RangeError(`frameMs must be a positive number of ms, not ${this.frameMs}`);
    const lag = options.maxLagFrames ?? 5;
    if (!Number.isInteger(lag) || lag < 1) throw new RangeError(`maxLagFrames must be a positive integer, not ${lag}`);
    this.#maxLagMs = lag * this.frameMs;
    this.now = options.now ?? (() => performance.now());
    this.originMs = options.originMs ?? this.now();
    this.onError = options.onError ?? ((err) => console.error('frame clock listener failed:', err));
  }

  /** Index of the first tick due at or after `atMs`. */
  tickAt(atMs: number): number {
    return Math.ceil((atMs - this.originMs) / this.frameMs - 1e-9) + 0; // + 0: never -0
  }

  /** Index of the last tick due at or before `atMs`: the tick whose period holds it. */
  lastDueAt(atMs: number): number {
    return Math.floor((atMs - this.originMs) / this.frameMs + 1e-9) + 0;
  }

  /** When tick `tick` is due. */
  dueAt(tick: number): number {
    return this.originMs + tick * this.frameMs;
  }

  get listeners(): number {
    return this.#listeners.size;
  }

  /** Calls `listener` from the next tick on (see nextTick()); starts the timer if it was idle. */
  add(listener: FrameClockListener): void {
    this.#listeners.add(listener);
    if (this.#timer === null) {
      this.#next = this.tickAt(this.now());
      this.#arm();
    }
  }

  /**
   * Like add(), but `listener` runs first in each tick, before every listener already there: for
   * work whose results the others send in the same tick (a conference's mix, pushed into its
   * legs' outputs: added last, every mixed frame would wait a tick for the engines that ran
   * before it).
   */
  addFirst(listener: FrameClockListener): void {
    const rest = [...this.#listeners].filter((l) => l !== listener);
    this.#listeners.clear();
    this.#listeners.add(listener);
    for (const l of rest) this.#listeners.add(l);
    if (this.#timer === null) {
      this.#next = this.tickAt(this.now());
      this.#arm();
    }
  }

  /** Stops calling `listener`; the timer stops with the last one. */
  delete(listener: FrameClockListener): void {
    this.#listeners.delete(listener);
    if (this.#listeners.size === 0 && this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
  }

  /**
   * Runs the due tick now if its timer has not fired yet. Node runs timers only between batches of
   * I/O callbacks, so a process that receives every call's packet in one burst (60 calls: several
   * ms of decrypt and decode) fires the tick after the whole batch; a receive path that calls this
   * per packet bounds the tick's lateness to one packet's work. Costs one clock read when not due.
   */
  runIfDue(): void {
    if (this.#timer === null || this.now() < this.dueAt(this.#next)) return;
    clearTimeout(this.#timer);
    this.#onTimer();
  }

  /**
   * Hears the send lateness of every packet sent on this clock's ticks: when the listener that
   * sent it returned, after the tick's due time. It includes the listeners before it in the burst
   * and a late timer, so it is what a receiver sees of this process. Returns the unsubscribe.
   */
  observeSends(observer: SendObserver): () => void {
    this.#sendObservers.add(observer);
    return () => this.#sendObservers.delete(observer);
  }

  #arm(): void {
    const delay = this.dueAt(this.#next) - this.now();
    this.#timer = setTimeout(this.#onTimer, delay > 0 ? delay : 0);
  }

  // Bound once: re-arming the timer creates no closure.
  readonly #onTimer = (): void => {
    this.#timer = null;
    if (this.#listeners.size === 0) return;
    const now = this.now();
    const late = now - this.dueAt(this.#next);
    if (late < -1) {
      this.#arm(); // fired early (see the header)
      return;
    }
    if (late > this.#maxLagMs) {
      // Stalled: the present tick fires now and the ones in between never do.
      this.#next = Math.floor((now - this.originMs) / this.frameMs);
    }
    const tick = this.#next++;
    const due = this.dueAt(tick);
    // Armed before the calls, so a listener that deletes itself (the last one) disarms it.
    this.#arm();
    const observers = this.#sendObservers;
    for (const l of this.#listeners) {
      let sent: boolean | void = false;
      try {
        sent = l(tick, now);
      } catch (err) {
        this.onError(err);
      }
      if (sent === true && observers.size > 0) {
        const late = this.now() - due;
        for (const o of observers) o(late);
      }
    }
  };
}
