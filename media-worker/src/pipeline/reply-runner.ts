/**
 * Plays one reply: iterates a handler's output, pushes audio frames to the transport's output and
 * events to the client, and brackets the audio with `reply.start` (sent with the first frame) and
 * `reply.end` (sent once the generator is done AND the output says its segment was heard whole:
 * `finish()` resolved, not interrupted).
 *
 * Abort (barge-in or session stop) is honoured at once even if the generator ignores its signal:
 * each `next()` is raced against the signal, nothing it yields afterwards is played, and the
 * generator is closed with `iterator.return()` (not awaited: a generator stuck in an await would
 * otherwise hold the runner). No `reply.end` follows an abort; the caller sends `interrupted`.
 *
 * Handler errors (a throw, or a yield that is neither audio nor an event) end the reply with an
 * `error` event for the client; the session lives on.
 */
import { ChannelMessage } from '@switchboard/protocol';
import { isAudioFrame, type AudioFrame } from '../audio/frame.ts';
import type { ReplyChunk } from '../handlers/types.ts';
import { errorEvent, replyEnd, replyStart } from './events.ts';
import type { SessionContext } from './session-context.ts';

/** How far ahead of playback a handler may run: beyond this the runner stops pulling until the queue drains (bounds memory for endless generators). */
export const MAX_AHEAD_MS = 5000;

export interface ReplyOutcome {
  status: 'completed' | 'aborted' | 'failed';
  /** Wall time the handler was called. */
  calledAt: number;
  /** Wall time the first frame was pushed to the output, if any was. */
  firstFrameAt: number | undefined;
  /** How much of the reply was heard, once its playout ended (not when the reply was aborted). */
  playedMs?: number;
}

/**
 * `turn`: the reply's turn number for `reply.start` / `reply.end`; undefined for a stream
 * handler's output, which has no turns and gets no such events. `onYield` hears each event the
 * handler yields, after it was sent.
 */
export async function runReply(
  sc: SessionContext,
  turn: number | undefined,
  signal: AbortSignal,
  source: () => AsyncIterable<ReplyChunk> | Iterable<ReplyChunk>,
  onYield?: (event: ChannelMessage) => void,
): Promise<ReplyOutcome> {
  const calledAt = sc.now();
  let firstFrameAt: number | undefined;
  let iterator: AsyncIterator<ReplyChunk> | Iterator<ReplyChunk> | undefined;
  let status: ReplyOutcome['status'] = 'completed';
  const abortRace = new AbortRace(signal);
  try {
    iterator = iteratorOf(source());
    for (;;) {
      if (signal.aborted) break;
      if (sc.transport.output.queuedMs() > MAX_AHEAD_MS && !(await waitForRoom(sc, signal))) break;
      const next = await abortRace.race(Promise.resolve(iterator.next()));
      if (next === ABORTED || next.done) break;
      const chunk: unknown = next.value;
      if (isAudioFrame(chunk)) {
        checkFrame(chunk);
        if (chunk.samples.length === 0) continue;
        if (firstFrameAt === undefined) {
          firstFrameAt = sc.now();
          if (turn !== undefined) sc.send(replyStart(firstFrameAt, turn));
        }
        sc.play(chunk);
      } else {
        const parsed = ChannelMessage.safeParse(chunk);
        if (!parsed.success) throw new TypeError(`handler yielded ${describe(chunk)}: expected an AudioFrame or an event object with a string "type"`);
        sc.send(parsed.data);
        onYield?.(parsed.data);
      }
    }
  } catch (err) {
    status = 'failed';
    sc.stats.handlerErrors++;
    const message = err instanceof Error ? err.message : String(err);
    sc.log.error('handler failed', { session: sc.session.id, turn, error: err instanceof Error ? (err.stack ?? message) : message });
    sc.send(errorEvent(`handler failed: ${message}`));
  } finally {
    abortRace.dispose();
  }
  if (signal.aborted) status = 'aborted';
  // Close the generator unless it finished on its own (runs its finally blocks; not awaited).
  if (iterator && (status !== 'completed' || signal.aborted)) closeQuietly(iterator);

  if (status !== 'aborted' && firstFrameAt !== undefined) {
    // The segment's end, heard (or cut short: cleared, or the output stopped); abort wins the race.
    const endRace = new AbortRace(signal);
    const heard = await endRace.race(sc.finishPlayback());
    endRace.dispose();
    if (heard === ABORTED) status = 'aborted';
    else {
      if (!heard.interrupted && turn !== undefined) sc.send(replyEnd(sc.now(), turn));
      return { status, calledAt, firstFrameAt, playedMs: heard.playedMs };
    }
  }
  return { status, calledAt, firstFrameAt };
}

const ABORTED = Symbol('aborted');

/**
 * Races each step of one reply against its abort signal with a single 'abort' listener for the
 * whole reply: a stream handler's reply lasts the call and steps once per frame, and adding and
 * removing an EventTarget listener on every step cost more than the step itself.
 */
class AbortRace {
  readonly #signal: AbortSignal;
  /** Settles the step in progress with ABORTED (undefined when no step is pending). */
  #abortStep: ((v: typeof ABORTED) => void) | undefined;
  readonly #onAbort = (): void => {
    const abortStep = this.#abortStep;
    this.#abortStep = undefined;
    abortStep?.(ABORTED);
  };

  constructor(signal: AbortSignal) {
    this.#signal = signal;
    signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** `p`'s value, or ABORTED as soon as the signal aborts (a later rejection of `p` is then ignored). */
  race<T>(p: Promise<T>): Promise<T | typeof ABORTED> {
    if (this.#signal.aborted) {
      p.catch(() => undefined); // the generator may still reject later: not an unhandled rejection
      return Promise.resolve(ABORTED);
    }
    return new Promise((resolve, reject) => {
      this.#abortStep = resolve;
      p.then(
        (v) => {
          if (this.#abortStep === resolve) this.#abortStep = undefined;
          resolve(v);
        },
        (e: unknown) => {
          if (this.#abortStep === resolve) this.#abortStep = undefined;
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }

  dispose(): void {
    this.#signal.removeEventListener('abort', this.#onAbort);
  }
}

/** Backpressure, once more than MAX_AHEAD_MS is queued: waits until half of that is left. False if aborted meanwhile. */
function waitForRoom(sc: SessionContext, signal: AbortSignal): Promise<boolean> {
  return sc.transport.output.whenQueuedAtMost(MAX_AHEAD_MS / 2, signal);
}

function iteratorOf(x: unknown): AsyncIterator<ReplyChunk> | Iterator<ReplyChunk> {
  if (typeof x === 'object' && x !== null) {
    const asyncIt = (x as Partial<AsyncIterable<ReplyChunk>>)[Symbol.asyncIterator];
    if (typeof asyncIt === 'function') return asyncIt.call(x);
    const syncIt = (x as Partial<Iterable<ReplyChunk>>)[Symbol.iterator];
    if (typeof syncIt === 'function') return syncIt.call(x);
  }
  throw new TypeError(`handler returned ${describe(x)}: expected an async iterable (write it as \`async function*\`)`);
}

function checkFrame(f: AudioFrame): void {
  if (!Number.isInteger(f.sampleRate) || f.sampleRate < 1000 || f.sampleRate > 192_000) {
    throw new RangeError(`handler yielded audio with a bad sample rate ${f.sampleRate}`);
  }
  if (!Number.isInteger(f.channels) || f.channels < 1 || f.channels > 2 || f.samples.length % f.channels !== 0) {
    throw new RangeError(`handler yielded audio with a bad channel layout (${f.channels} channels, ${f.samples.length} samples)`);
  }
}

function closeQuietly(it: AsyncIterator<ReplyChunk> | Iterator<ReplyChunk>): void {
  try {
    const r = it.return?.();
    if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(undefined, () => undefined);
  } catch {
    // a generator whose finally throws: nothing more to do
  }
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (typeof (x as { then?: unknown } | undefined)?.then === 'function') return 'a Promise';
  if (typeof x === 'object') return 'an object without a string "type"';
  return typeof x === 'string' ? 'a string' : `${typeof x} ${String(x)}`;
}
