/**
 * The clock side of the playout engine: when each tick runs. The engine says whether audio is
 * ready and sends a tick's frames; the pacer decides on which tick, and counts the ticks.
 *
 * Constraints it encodes:
 * - Pacing comes from a FrameClock (frame-clock.ts): drift-free, never early, skip-ahead after a
 *   stall (the audio stays queued; the receiver's jitter buffer sees a timestamp gap). Engines
 *   on the process-wide clock tick together, one timer wake-up per frame for all of them.
 * - Idle, an engine stays on its clock from start() to stop(): an idle tick is a call that sends
 *   nothing and allocates nothing. Staying keeps its place in a shared clock's burst (listeners
 *   run in the order they joined); one that left and rejoined would move to the end, and its
 *   receiver would see the packet spacing jump by up to a burst.
 * - Talkspurt start without waiting for the grid: audio that arrives after at least one tick
 *   that sent nothing goes out at once (in a microtask), as the tick in progress; it is late on
 *   the grid by up to a frame, never early, and the frames after it follow on the grid. A shared
 *   clock cannot move its grid to each reply, and waiting for the next tick would add up to
 *   frameMs to every turn; sending the tick in progress late adds nothing, and the receiver sees
 *   the packets after it early, never late, against that first one.
 * - Mid-stream, the grid rules: a frame that misses its tick by arriving just after it (a stream
 *   fed in real time, like an echo) waits for the next tick instead of going out at once. Sent
 *   at once, every later frame would follow its arrival, off the shared tick: one burst of sends
 *   per frame for all engines is what the shared clock is for (see frame-clock.ts); sending each
 *   frame on arrival instead measured no saving at all.
 */
import type { FrameClock } from '../frame-clock.ts';
import { enterStage, exitStage, Stage } from '../../telemetry/stage-cpu.ts';
import { Lateness } from './lateness.ts';

export interface PacerTarget {
  /** Audio is queued and may be sent now. */
  ready(): boolean;
  /** Sends tick `tick`'s frames at `now`; `talkspurt`: the tick before sent nothing. Returns how many it sent. */
  runTick(tick: number, now: number, talkspurt: boolean): number;
}

export class Pacer {
  readonly clock: FrameClock;
  readonly lateness: Lateness;
  /** Ticks that sent nothing. */
  silentTicks = 0;
  /** Ticks passed over by skip-ahead after a stall. */
  skippedTicks = 0;
  readonly #target: PacerTarget;
  /** Between start() and stop(): on the clock (its listener registered). */
  #running = false;
  /** A talkspurt start is queued as a microtask. */
  #wakePending = false;
  /** The last tick run (by the clock or at once). */
  #lastRunTick = -Infinity;
  /** The tick RTP timestamps count from (set by the first start()). */
  #tick0: number | null = null;
  /** Index of the next tick to handle. */
  #tick = 0;
  /** The last tick that sent audio. */
  #lastAudioTick = -Infinity;
  /** The last tick run sent audio. */
  #playing = false;

  constructor(clock: FrameClock, target: PacerTarget, statsWindow: number) {
    this.clock = clock;
    this.#target = target;
    this.lateness = new Lateness(statsWindow);
  }

  get running(): boolean {
    return this.#running;
  }

  /** Ticks from the first start() to `tick`: what RTP timestamps count. */
  ticksSinceStart(tick: number): number {
    return tick - this.#tick0!;
  }

  /** Joins the clock; audio already ready goes out at once. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    const current = this.#currentTick();
    this.#tick0 ??= current;
    this.#lastAudioTick = -Infinity;
    this.#tick = Math.max(this.#tick, current);
    if (this.#target.ready() && this.#lastRunTick < current) this.#runAtOnce(current);
    this.#tick = Math.max(this.#tick, current + 1);
    this.clock.add(this.#onTick);
  }

  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.clock.delete(this.#onTick);
  }

  /** Audio became ready: while idle, a talkspurt may start at once, in a microtask (see the header). */
  wake(): void {
    if (!this.#running || this.#playing || this.#wakePending || !this.#target.ready()) return;
    this.#wakePending = true;
    queueMicrotask(this.#onWake);
  }

  readonly #onWake = (): void => {
    this.#wakePending = false;
    if (!this.#running || !this.#target.ready()) return;
    const current = this.#currentTick();
    // A talkspurt after a gap: the tick in progress sent nothing, so this frame is it, late but at once.
    if (this.#lastAudioTick < current - 1) this.#runAtOnce(current);
  };

  /** The clock tick whose period holds the present: the last one due. */
  #currentTick(): number {
    return this.clock.lastDueAt(this.clock.now());
  }

  /** Runs tick `current` now, outside the clock: counted as it went (the clock may have run it empty already). */
  #runAtOnce(current: number): void {
    if (this.#lastRunTick === current) this.silentTicks--;
    else if (current > this.#tick) this.silentTicks += current - this.#tick; // ticks the clock has not run yet (catching up)
    try {
      this.#run(current, this.clock.now());
    } catch (err) {
      this.clock.onError(err);
    }
  }

  // Bound once: joining the clock creates no closure.
  readonly #onTick = (tick: number, now: number): boolean => {
    if (tick < this.#tick) return false; // a tick from before this engine joined (the clock catching up)
    this.lateness.record(now - this.clock.dueAt(this.#tick));
    // The clock skipped ahead after a stall: the ticks in between never ran.
    if (tick > this.#tick) this.skippedTicks += tick - this.#tick;
    this.#tick = tick;
    return this.#run(tick, now);
  };

  #run(tick: number, now: number): boolean {
    this.#lastRunTick = tick;
    this.#tick = tick + 1;
    // A tick's work is the 'playout' stage (telemetry/stage-cpu.ts), less the sink's send in it.
    enterStage(Stage.playout);
    let sent: number;
    try {
      sent = this.#target.runTick(tick, now, this.#lastAudioTick !== tick - 1);
    } finally {
      exitStage();
    }
    this.#playing = sent > 0;
    if (sent > 0) this.#lastAudioTick = tick;
    else this.silentTicks++;
    return sent > 0;
  }
}
