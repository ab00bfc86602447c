/**
 * Per-stage time of the media path, for `npm run bench`'s agent-path row: how much of the worker's
 * CPU goes to Opus decode, resampling, the VAD model, turn detection, Opus encode and the playout
 * engine's own work. Exposed as switchboard_stage_seconds_total{stage} (http/metrics.ts); the
 * bench scrapes it at its window's edges and calls the worker's CPU minus their sum "transport"
 * (SRTP, sockets, werift, timers, the event loop and the pipeline's glue).
 *
 * Off unless the worker runs with STAGE_TIMING=on (read once, at load; the bench sets it): off,
 * every call below is one test of a module-level boolean.
 *
 * How time is attributed: call sites bracket synchronous work with enterStage(stage) and
 * exitStage() (in a finally), one performance.now() each. Stages nest (a reply resampled inside
 * the playout engine, an encode inside a send); time is exclusive: entering a stage stops the
 * clock of the one open around it and exiting restarts it, so nothing is counted twice. OUTSIDE
 * marks code that is not a stage (the transport's send inside the engine's tick): its time is kept
 * apart, never exported, and so stays in "transport". Work that ends on another turn of the event
 * loop (the VAD model, which onnxruntime-node runs inside a setImmediate) is added with
 * addStageMs(). performance.now() is wall time: on a busy worker a stage may be preempted by
 * another thread or process, so the stages are an upper bound of their CPU (the bench's window is
 * short and the worker single-threaded for these stages).
 */

/** Exported stage names, in the order of their indices in `Stage`. */
export const STAGE_NAMES = ['decode', 'resample', 'vad', 'turns', 'encode', 'playout'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

/** Stage indices for the call sites (a plain object: no enums under type stripping). */
export const Stage = { decode: 0, resample: 1, vad: 2, turns: 3, encode: 4, playout: 5, outside: 6 } as const;
export type StageIndex = (typeof Stage)[keyof typeof Stage];

/** Deeper nesting than this is not attributed (none of the instrumented paths nests past 4). */
const MAX_DEPTH = 16;

let enabled = process.env['STAGE_TIMING'] === 'on';
/** Milliseconds per stage index (outside included), since the start or the last reset. */
const totalsMs = new Float64Array(STAGE_NAMES.length + 1);
/** Calls entered per stage index. */
const calls = new Float64Array(STAGE_NAMES.length + 1);
const stack = new Uint8Array(MAX_DEPTH);
let depth = 0;
/** performance.now() when the innermost open stage's clock last (re)started. */
let mark = 0;

/** Whether call sites time their work (STAGE_TIMING=on, or setStageTiming). */
export function stageTimingOn(): boolean {
  return enabled;
}

/** Turns timing on or off (tests; the worker reads STAGE_TIMING once). Open stages are dropped. */
export function setStageTiming(on: boolean): void {
  enabled = on;
  depth = 0;
}

/** Starts timing `stage`; pauses the stage open around it. Pair with exitStage() in a finally. */
export function enterStage(stage: StageIndex): void {
  if (!enabled) return;
  const now = performance.now();
  if (depth > 0 && depth <= MAX_DEPTH) totalsMs[stack[depth - 1]!]! += now - mark;
  if (depth < MAX_DEPTH) stack[depth] = stage;
  depth++;
  calls[stage]!++;
  mark = now;
}

/** Ends the innermost stage; the one around it (if any) resumes. */
export function exitStage(): void {
  if (!enabled || depth === 0) return;
  const now = performance.now();
  depth--;
  if (depth < MAX_DEPTH) totalsMs[stack[depth]!]! += now - mark;
  mark = now;
}

/** Adds time measured by the caller (work that spans an await). */
export function addStageMs(stage: StageIndex, ms: number): void {
  if (!enabled || !(ms > 0)) return;
  totalsMs[stage]! += ms;
}

/** Seconds per exported stage since the start (what the counter reports). */
export function stageSeconds(): Record<StageName, number> {
  const out = {} as Record<StageName, number>;
  STAGE_NAMES.forEach((name, i) => (out[name] = totalsMs[i]! / 1000));
  return out;
}

/** Calls per exported stage since the start (enterStage only; for tests and overhead estimates). */
export function stageCalls(): Record<StageName, number> {
  const out = {} as Record<StageName, number>;
  STAGE_NAMES.forEach((name, i) => (out[name] = calls[i]!));
  return out;
}

/** Zeroes every total (tests). */
export function resetStages(): void {
  totalsMs.fill(0);
  calls.fill(0);
  depth = 0;
}
