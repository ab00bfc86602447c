/**
 * A leg's jitter buffer: a bounded FIFO of mono samples at the mixer's rate, written whenever the
 * leg's packets arrive and read one frame per mixer tick.
 *
 * Constraints it encodes:
 * - Priming: nothing is read until `targetMs` is buffered (a whole frame when the target is less:
 *   the handler's paced audio uses 0), at the start and again after each underrun, so the reads
 *   that follow have that much cushion against late packets. "The target" below means this depth.
 * - Underrun: a tick with less than a whole frame buffered gives what there is, padded with
 *   silence (nothing is lost, a client's short last chunk included), counts an underrun and
 *   primes again.
 * - Adaptive: each underrun raises the depth primed for by a frame (up to `maxTargetMs`), and each
 *   trim window played without one lowers it by a frame back towards `targetMs`. A leg whose
 *   packets come late (a congested path, a starved host) buys cushion instead of a gap every few
 *   hundred ms; a clean leg stays at the target. On 2 shared cores with five callers, a fixed
 *   40 ms target gave one leg in four 80-120 ms gaps (legs e2e tests).
 * - Bounded: the buffer never holds more than `maxMs`. A write that would exceed it drops the
 *   oldest audio down to the target depth (counted): dropping only the excess would leave the
 *   leg `maxMs` behind everyone for the rest of the call.
 * - Standing latency is trimmed: when the depth before every read of a whole `trimWindowMs` was
 *   at least a frame above the target (a burst after a network stall leaves it there for good),
 *   the oldest audio down to the target is dropped (counted).
 * - Reads copy into the caller's buffer and allocate nothing (they run on every tick).
 */

export interface JitterBufferOptions {
  /**
   * Depth to buffer before reading. Default 40: the leg's packets run on its own clock, at a phase
   * unrelated to the mixer's ticks, so one frame of depth is needed just to have a whole frame at
   * every tick; the second frame lets a packet arrive up to ~20 ms late without a gap (checked in
   * jitter-buffer.test.ts). Legs on worse paths (a relay over TCP, a client sending 100 ms chunks)
   * take a larger target.
   */
  targetMs?: number;
  /** Most audio held. Default 200 (5x the target: a stall this long is a lost burst, not jitter). */
  maxMs?: number;
  /** Highest depth the adaptive target may reach. Default 120 (and below maxMs by a frame). */
  maxTargetMs?: number;
  /**
   * Window over which a standing excess depth is trimmed. Default 1000 (50 ticks: long enough that
   * a jittery leg's cushion is not taken from it, short enough that a stall's latency goes within
   * 2 s: the window that holds the burst does not count). 0 disables trimming.
   */
  trimWindowMs?: number;
}

export interface JitterStats {
  /** Audio buffered now. */
  depthMs: number;
  /** Ticks that gave a whole frame. */
  framesPlayed: number;
  /** Times the buffer ran short while playing (each one primes again). */
  underruns: number;
  /** Ticks since the first audio that gave no audio at all (priming, or starved). */
  silentTicks: number;
  /** Writes that would have exceeded maxMs. */
  overruns: number;
  /** Audio dropped by overruns. */
  droppedMs: number;
  /** Audio dropped to trim standing latency. */
  trimmedMs: number;
  /** The depth primed for now (the adaptive target). */
  targetMs: number;
}

export class JitterBuffer {
  readonly sampleRate: number;
  readonly frameSamples: number;
  readonly targetSamples: number;
  /** Depth that starts reads: the target, or a whole frame when the target is below one. */
  readonly #basePrime: number;
  /** The adaptive depth that starts reads now: #basePrime raised by underruns, lowered by clean windows. */
  #primeSamples: number;
  readonly #maxPrime: number;
  /** An underrun happened in the current trim window. */
  #underrunInWindow = false;
  readonly #ring: Int16Array;
  #head = 0;
  #depth = 0;
  /** Anything was ever written. */
  #started = false;
  /** Primed and reading (not waiting for the target depth). */
  #playing = false;
  readonly #trimTicks: number;
  #windowTicks = 0;
  #windowMin = Infinity;
  #framesPlayed = 0;
  #underruns = 0;
  #silentTicks = 0;
  #overruns = 0;
  #dropped = 0;
  #trimmed = 0;

  constructor(sampleRate: number, frameMs: number, options: JitterBufferOptions = {}) {
    if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new RangeError(`bad sample rate ${sampleRate}`);
    const frame = (frameMs * sampleRate) / 1000;
    if (!(frame >= 1) || Math.abs(frame - Math.round(frame)) > 1e-9) {
      throw new RangeError(`frame of ${frameMs} ms is not a whole number of samples at ${sampleRate} Hz`);
    }
    const targetMs = options.targetMs ?? 40;
    const maxMs = options.maxMs ?? 200;
    const trimWindowMs = options.trimWindowMs ?? 1000;
    if (!(targetMs >= 0) || !Number.isFinite(targetMs)) throw new RangeError(`targetMs must be >= 0, not ${targetMs}`);
    if (!(maxMs >= targetMs + frameMs) || !Number.isFinite(maxMs)) {
      throw new RangeError(`maxMs (${maxMs}) must hold the target (${targetMs}) plus a frame (${frameMs})`);
    }
    if (!(trimWindowMs >= 0) || !Number.isFinite(trimWindowMs)) throw new RangeError(`trimWindowMs must be >= 0, not ${trimWindowMs}`);
    this.sampleRate = sampleRate;
    this.frameSamples = Math.round(frame);
    this.targetSamples = Math.round((targetMs * sampleRate) / 1000);
    this.#basePrime = Math.max(this.targetSamples, this.frameSamples);
    this.#primeSamples = this.#basePrime;
    const maxTargetMs = Math.min(options.maxTargetMs ?? 120, maxMs - frameMs);
    this.#maxPrime = Math.max(this.#basePrime, Math.round((maxTargetMs * sampleRate) / 1000));
    this.#ring = new Int16Array(Math.round((maxMs * sampleRate) / 1000));
    this.#trimTicks = Math.round(trimWindowMs / frameMs);
  }

  /** Anything was ever written. */
  get started(): boolean {
    return this.#started;
  }

  /** Samples buffered. */
  get depth(): number {
    return this.#depth;
  }

  /** Appends samples (any count); past maxMs the oldest go (see the header). */
  write(samples: Int16Array): void {
    const n = samples.length;
    if (n === 0) return;
    this.#started = true;
    const cap = this.#ring.length;
    if (this.#depth + n > cap) {
      this.#overruns++;
      const keep = this.#primeSamples; // the newest
      if (n >= keep) {
        this.#dropped += this.#depth + n - keep;
        this.#head = 0;
        this.#depth = 0;
        this.#append(samples.subarray(n - keep));
        return;
      }
      const drop = this.#depth + n - keep;
      this.#dropped += drop;
      this.#discard(drop);
    }
    this.#append(samples);
  }

  /**
   * Fills `out` (frameSamples long) with the next frame, silence-padded when the buffer runs short.
   * Returns true when it holds any audio from the leg, false when it is all silence.
   */
  read(out: Int16Array): boolean {
    const f = this.frameSamples;
    if (out.length !== f) throw new RangeError(`read needs a ${f}-sample buffer, got ${out.length}`);
    if (!this.#playing && this.#started && this.#depth >= this.#primeSamples) this.#playing = true;
    if (!this.#playing) {
      if (this.#started) this.#silentTicks++;
      out.fill(0);
      return false;
    }
    this.#trim();
    const n = Math.min(f, this.#depth);
    this.#copyOut(out, n);
    if (n === f) {
      this.#framesPlayed++;
      return true;
    }
    out.fill(0, n);
    this.#underruns++;
    this.#playing = false;
    this.#primeSamples = Math.min(this.#maxPrime, this.#primeSamples + f);
    this.#resetWindow();
    this.#underrunInWindow = true;
    if (n === 0) this.#silentTicks++;
    return n > 0;
  }

  /** Drops everything buffered; the next audio primes again. Counters are kept. */
  clear(): void {
    this.#head = 0;
    this.#depth = 0;
    this.#playing = false;
    this.#resetWindow();
  }

  stats(): JitterStats {
    const ms = (samples: number): number => (samples * 1000) / this.sampleRate;
    return {
      depthMs: ms(this.#depth),
      framesPlayed: this.#framesPlayed,
      underruns: this.#underruns,
      silentTicks: this.#silentTicks,
      overruns: this.#overruns,
      droppedMs: ms(this.#dropped),
      trimmedMs: ms(this.#trimmed),
      targetMs: ms(this.#primeSamples),
    };
  }

  /** Before a read while playing: tracks the window's minimum depth and trims a standing excess. */
  #trim(): void {
    if (this.#trimTicks === 0) return;
    if (this.#depth < this.#windowMin) this.#windowMin = this.#depth;
    if (++this.#windowTicks < this.#trimTicks) return;
    // A whole window without an underrun: the cushion an earlier one bought is given back a frame at a time.
    if (!this.#underrunInWindow && this.#primeSamples > this.#basePrime) this.#primeSamples = Math.max(this.#basePrime, this.#primeSamples - this.frameSamples);
    this.#underrunInWindow = false;
    const excess = this.#windowMin - this.#primeSamples;
    if (excess >= this.frameSamples) {
      this.#discard(excess);
      this.#trimmed += excess;
    }
    this.#resetWindow();
  }

  #resetWindow(): void {
    this.#windowTicks = 0;
    this.#windowMin = Infinity;
  }

  #append(samples: Int16Array): void {
    const ring = this.#ring;
    const cap = ring.length;
    const tail = (this.#head + this.#depth) % cap;
    const first = Math.min(samples.length, cap - tail);
    ring.set(first === samples.length ? samples : samples.subarray(0, first), tail);
    if (first < samples.length) ring.set(samples.subarray(first), 0);
    this.#depth += samples.length;
  }

  /** Moves the oldest `n` samples to out[0..n). A loop, not set(subarray): a view per tick is an allocation. */
  #copyOut(out: Int16Array, n: number): void {
    const ring = this.#ring;
    const cap = ring.length;
    let j = this.#head;
    for (let i = 0; i < n; i++) {
      out[i] = ring[j]!;
      if (++j === cap) j = 0;
    }
    this.#discard(n);
  }

  #discard(n: number): void {
    this.#head = (this.#head + n) % this.#ring.length;
    this.#depth -= n;
  }
}
