/**
 * What every runner of one session shares: the transport, the clock, the client's latest inputs
 * and a guarded `send`. Once the pipeline stops, `send` and `play` become no-ops (and
 * `finishPlayback` reports an interrupted segment), so a handler that ignores its abort signal
 * cannot write to a closed session.
 */
import type { ChannelMessage } from '@switchboard/protocol';
import type { AudioFrame } from '../audio/frame.ts';
import type { SegmentResult } from '../audio/playout/types.ts';
import type { HandlerContext, Interruption, SessionInfo } from '../handlers/types.ts';
import type { MediaTransport } from '../transport/types.ts';
import { noLegs, type LegsApi } from '../conference/legs-api.ts';
import { transfer } from '../conference/transfer.ts';

export interface PipelineLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const consoleLogger: PipelineLogger = {
  warn: (message, fields) => console.warn(message, fields ?? ''),
  error: (message, fields) => console.error(message, fields ?? ''),
};

/** Counters for the worker's /metrics and logs. */
export interface PipelineStats {
  /** User turns handed to the handler. */
  turns: number;
  /** Replies cut by barge-in. */
  interruptions: number;
  /** Handler errors (thrown, or invalid yields). */
  handlerErrors: number;
  /** Caller frames dropped because the pipeline (VAD) or a stream handler fell behind. */
  droppedInputFrames: number;
}

/**
 * The most `type`s `ctx.inputs` keeps: the data channel's own limit (channel-guard.ts), applied
 * here too so no event source can grow the map without bound.
 */
export const MAX_INPUT_TYPES = 64;

/** The latest event per `type`; a new type beyond MAX_INPUT_TYPES is not kept (known ones still update). */
export class LatestInputs extends Map<string, ChannelMessage> {
  override set(type: string, event: ChannelMessage): this {
    if (this.size >= MAX_INPUT_TYPES && !this.has(type)) return this;
    return super.set(type, event);
  }
}

export class SessionContext {
  /** The latest client event per `type` (the handler's `ctx.inputs`), at most MAX_INPUT_TYPES of them. */
  readonly inputs: Map<string, ChannelMessage> = new LatestInputs();
  readonly stats: PipelineStats = { turns: 0, interruptions: 0, handlerErrors: 0, droppedInputFrames: 0 };
  /** Aborted by stop(): every reply's signal follows it. */
  readonly lifetime = new AbortController();
  /** The latest barge-in (the handler's `ctx.lastInterruption`). */
  lastInterruption: Interruption | undefined;
  /** The handler's `ctx.state`: set by the pipeline's owner, shared with the session's next pipeline on a resume. */
  state: Record<string, unknown> = {};

  readonly transport: MediaTransport;
  readonly session: SessionInfo;
  /** Wall clock in ms (event `at`s and metrics). */
  readonly now: () => number;
  readonly log: PipelineLogger;

  // No parameter properties: the worker runs under Node's type stripping, which rejects them.
  constructor(transport: MediaTransport, session: SessionInfo, now: () => number, log: PipelineLogger) {
    this.transport = transport;
    this.session = session;
    this.now = now;
    this.log = log;
  }

  get stopped(): boolean {
    return this.lifetime.signal.aborted;
  }

  send(event: ChannelMessage): void {
    if (this.stopped) return;
    try {
      this.transport.sendEvent(event);
    } catch (err) {
      this.log.warn('pipeline: sendEvent failed', { session: this.session.id, error: String(err) });
    }
  }

  play(frame: AudioFrame): void {
    if (this.stopped) return;
    this.transport.output.push(frame);
  }

  /** Closes the reply's audio segment; resolves with what the caller heard of it (output.finish()). */
  finishPlayback(): Promise<SegmentResult> {
    if (this.stopped) return Promise.resolve({ playedMs: 0, interrupted: true });
    return this.transport.output.finish();
  }

  /** Barge-in: drops the reply audio queued and returns the ms of its segment the caller heard. */
  clearPlayback(): number {
    return this.stopped ? 0 : this.transport.output.clear().playedMs;
  }

  /**
   * A reply's AbortController, aborted on barge-in or when the session stops. The link to the
   * session is removed by `release()` so finished replies leave no listener behind.
   */
  replyController(): { controller: AbortController; release: () => void } {
    const controller = new AbortController();
    const onStop = (): void => controller.abort(this.lifetime.signal.reason);
    if (this.stopped) controller.abort(this.lifetime.signal.reason);
    else this.lifetime.signal.addEventListener('abort', onStop, { once: true });
    return { controller, release: () => this.lifetime.signal.removeEventListener('abort', onStop) };
  }

  /** The session's legs as the handler sees them: the transport's (a conference view), or the caller alone. */
  get legs(): LegsApi {
    return (
      this.transport.legs ??
      (this.#alone ??= noLegs(
        () => ({ legId: this.session.id, kind: this.session.kind, state: 'joined', primary: true }),
        (cb) => this.transport.onAudio(cb) ?? (() => {}),
      ))
    );
  }
  #alone: LegsApi | undefined;

  handlerContext(signal: AbortSignal): HandlerContext {
    const sc = this;
    return {
      session: this.session,
      get lastInterruption() {
        return sc.lastInterruption;
      },
      signal,
      send: (event) => this.send(event),
      inputs: this.inputs,
      state: this.state,
      clearPlayback: () => this.clearPlayback(),
      get legs() {
        return sc.legs;
      },
      // The session's lifetime, not the reply's: a caller speaking while the human is dialled does not call the transfer off.
      transfer: (to, options) => transfer(sc.legs, to, { ...options, signal: options?.signal ?? sc.lifetime.signal }),
    };
  }
}
