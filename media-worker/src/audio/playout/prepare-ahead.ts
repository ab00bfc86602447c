/**
 * Work ahead of the tick: the frame at the head of the queue is handed to the sink's prepare()
 * before its tick (the sink encodes it), so a shared clock's burst carries only the sends: at 60
 * calls, encoding inside the burst put the last call's packet ~9 ms after the tick. A frame is
 * prepared when a push makes it the head (a stream fed in real time: on its arrival), else after
 * the burst in which the frame before it went out (one setImmediate for all engines). One frame
 * ahead at most, so a reply pushed all at once is not encoded in one long stretch that would hold
 * up every other call's tick. Frames go to prepare() in queue order, each once; one sent before
 * its turn came is not prepared (send() does the work).
 */
import { enterStage, exitStage, Stage } from '../../telemetry/stage-cpu.ts';
import type { AudioFrame } from '../frame.ts';

export class PrepareAhead {
  readonly #prepare: (frame: AudioFrame) => void;
  readonly #head: () => AudioFrame | undefined;
  readonly #onError: (err: unknown) => void;
  /** The head of the queue has been prepared. */
  #prepared = false;
  /** A prepare of the head is waiting for the end of the burst. */
  #pending = false;

  constructor(prepare: (frame: AudioFrame) => void, head: () => AudioFrame | undefined, onError: (err: unknown) => void) {
    this.#prepare = prepare;
    this.#head = head;
    this.#onError = onError;
  }

  /** The head left the queue (sent, dropped or cleared): the next one is not prepared yet. */
  headGone(): void {
    this.#prepared = false;
  }

  /** Prepares the head now if it is waiting unprepared. */
  now(): void {
    if (this.#prepared) return;
    const head = this.#head();
    if (!head) return;
    this.#prepared = true;
    // The sink's work, not the engine's (telemetry/stage-cpu.ts): its encode counts as 'encode'.
    enterStage(Stage.outside);
    try {
      this.#prepare(head);
    } catch (err) {
      this.#onError(err);
    } finally {
      exitStage();
    }
  }

  /** Prepares the head once the burst in progress is over. */
  afterBurst(): void {
    if (this.#pending || this.#prepared || !this.#head()) return;
    this.#pending = true;
    afterBurst.push(this.#onAfterBurst);
    if (afterBurst.length === 1) setImmediate(runAfterBurst);
  }

  // Bound once: queuing it creates no closure.
  readonly #onAfterBurst = (): void => {
    this.#pending = false;
    this.now();
  };
}

/** Engines' prepares waiting for the end of the current burst of sends. */
const afterBurst: (() => void)[] = [];
function runAfterBurst(): void {
  for (const prepare of afterBurst.splice(0)) prepare();
}
