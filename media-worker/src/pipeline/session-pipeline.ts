/**
 * `runPipeline`: runs one handler over one session's transport until the session ends.
 *
 * It subscribes to the transport (audio, client events, close), dispatches to the runner for the
 * handler's kind (turn-runner.ts for replyOnPause, stream-runner.ts for stream), keeps
 * `ctx.inputs` (the latest client event per type) and hands each event to the handler's onEvent. It ends on `stop(reason)`, on the transport
 * closing, when a stream handler's output ends, or when the VAD cannot start; then every reply is
 * aborted, listeners are removed, the VAD and resamplers are freed, and `done` resolves once
 * nothing is left running. The pipeline never closes the transport: its owner does, after `done`
 * (`reason` says why the pipeline ended). At each turn end it checkpoints the handler's
 * `ctx.state` through `onCheckpoint` (checkpoint.ts).
 */
import type { ChannelMessage } from '@switchboard/protocol';
import type { AudioFrame } from '../audio/frame.ts';
import type { Handler, SessionInfo } from '../handlers/types.ts';
import type { MediaTransport } from '../transport/types.ts';
import { Checkpointer } from './checkpoint.ts';
import { errorEvent, type TurnMetricsEvent } from './events.ts';
import { SessionContext, consoleLogger, type PipelineLogger, type PipelineStats } from './session-context.ts';
import { StreamRunner } from './stream-runner.ts';
import { TurnRunner, type VadStream } from './turn-runner.ts';

/** Makes one session's VAD stream (vad/streaming-vad.ts's StreamingVad fits). */
export type VadFactory = () => VadStream | Promise<VadStream>;

export interface PipelineOptions {
  handler: Handler;
  transport: MediaTransport;
  session: SessionInfo;
  /**
   * Makes this session's VAD stream (needed by replyOnPause handlers only), e.g.
   * `() => new StreamingVad((await SileroModel.load()).createStream())`.
   */
  vad?: VadFactory;
  /** Wall clock in ms, for event `at`s and metrics. Default: performance.timeOrigin + performance.now(). */
  now?: () => number;
  /** Called with each turn's metrics (also sent to the client), e.g. to feed /metrics histograms. */
  onMetrics?: (m: TurnMetricsEvent) => void;
  log?: PipelineLogger;
  /**
   * The handler's `ctx.state` (default `{}`): the same object across the session's pipelines, so
   * a pipeline started on a resumed connection carries on with it.
   */
  state?: Record<string, unknown>;
  /** The JSON the state was restored from (default `{}`): it is not checkpointed again until it changes. */
  stateJson?: string;
  /**
   * Called at each turn end with the state's JSON text when it changed (checkpoint.ts); without
   * it the state is not checkpointed.
   */
  onCheckpoint?: (json: string) => void;
}

export interface Pipeline {
  /** Resolves when the pipeline has ended and released everything. Never rejects. */
  readonly done: Promise<void>;
  /** Ends the pipeline (idempotent): aborts replies, drops listeners; `done` resolves after. */
  stop(reason: string): void;
  /** Why the pipeline ended (undefined while it runs). */
  readonly reason: string | undefined;
  /** Live counters. */
  readonly stats: Readonly<PipelineStats>;
  /** Checkpoints `ctx.state` now if it changed (e.g. before the call is handed to another worker). */
  checkpoint(): void;
}

const wallClock = (): number => performance.timeOrigin + performance.now();

export function runPipeline(o: PipelineOptions): Pipeline {
  const sc = new SessionContext(o.transport, o.session, o.now ?? wallClock, o.log ?? consoleLogger);
  if (o.state) sc.state = o.state;
  const onCheckpoint = o.onCheckpoint;
  const checkpointer = onCheckpoint
    ? new Checkpointer({
        state: sc.state,
        lastJson: o.stateJson,
        onCheckpoint,
        onRefused: (message) => {
          sc.log.warn(`pipeline: ${message}`, { session: sc.session.id });
          sc.send(errorEvent(message));
        },
      })
    : undefined;
  const checkpoint = (): void => void checkpointer?.check();
  let reason: string | undefined;
  const unsubscribe: Array<void | (() => void)> = [];
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));

  const stop = (why: string): void => {
    if (reason !== undefined) return;
    reason = why;
    sc.lifetime.abort(new DOMException(`session ended: ${why}`, 'AbortError'));
    for (const off of unsubscribe.splice(0)) off?.();
    runner.shutdown().then(resolveDone, (err: unknown) => {
      sc.log.error('pipeline: shutdown failed', { session: sc.session.id, error: String(err) });
      resolveDone();
    });
  };

  let runner: { onAudio(frame: AudioFrame): void; onEvent(event: ChannelMessage): void; shutdown(): Promise<void>; start(): void };
  if (o.handler.kind === 'reply-on-pause') {
    const createVad = o.vad;
    if (!createVad) throw new TypeError('runPipeline: a replyOnPause handler needs the `vad` factory');
    runner = new TurnRunner({ sc, handler: o.handler, createVad, onMetrics: o.onMetrics, onFatal: stop, checkpoint });
  } else if (o.handler.kind === 'stream') {
    runner = new StreamRunner({ sc, handler: o.handler, onEnd: stop, checkpoint });
  } else {
    throw new TypeError(`runPipeline: unknown handler kind ${JSON.stringify((o.handler as { kind?: unknown }).kind)}`);
  }

  // Filled one by one: onClose may call stop() synchronously (transport already closed).
  unsubscribe.push(
    o.transport.onEvent((event) => {
      if (sc.stopped) return;
      sc.inputs.set(event.type, event);
      runner.onEvent(event);
    }),
  );
  unsubscribe.push(o.transport.onAudio((frame) => runner.onAudio(frame)));
  unsubscribe.push(o.transport.onClose((why) => stop(`transport closed: ${why}`)));
  if (reason !== undefined) for (const off of unsubscribe.splice(0)) off?.();
  else runner.start();

  return {
    done,
    stop,
    get reason() {
      return reason;
    },
    stats: sc.stats,
    checkpoint,
  };
}
