/**
 * Recording spans from timestamps already taken (epoch ms, sub-ms): a turn's spans are created
 * when it is over, with explicit start and end times, from the same numbers its metrics events
 * carry, so nothing is timed twice and no span stays open across awaits.
 *
 * Each turn is the root of its own trace (no long `session` span): the batch processor exports a
 * span only once it ended, so a session span would reach the collector minutes or hours after its
 * turns (viewers show them orphaned meanwhile) and never, if the worker dies mid-call. Turns of a
 * session are found by `switchboard.session.id`.
 *
 * Without a registered provider (no OTEL endpoint) `activeTracer()` is undefined after two
 * property reads, and callers skip all span work: measured in overhead.test.ts.
 */
import { ProxyTracerProvider, ROOT_CONTEXT, SpanStatusCode, trace, type Attributes, type Context, type Tracer, type TracerProvider } from '@opentelemetry/api';
import type { SessionInfo } from '../handlers/types.ts';

export const TRACER_NAME = 'switchboard-media-worker';

/** Span attribute names (switchboard.* ours; gen_ai.* the OTel GenAI semantic conventions). */
export const ATTR = {
  sessionId: 'switchboard.session.id',
  sessionKind: 'switchboard.session.kind',
  turn: 'switchboard.turn',
  endOfSpeechToFirstFrameMs: 'switchboard.end_of_speech_to_first_frame_ms',
  handlerFirstFrameMs: 'switchboard.handler_first_frame_ms',
  interrupted: 'switchboard.interrupted',
  playedMs: 'switchboard.played_ms',
  firstTokenMs: 'switchboard.first_token_ms',
  firstAudioMs: 'switchboard.first_audio_ms',
  service: 'switchboard.service',
  genAiOperation: 'gen_ai.operation.name',
  genAiProvider: 'gen_ai.provider.name',
  genAiModel: 'gen_ai.request.model',
  genAiConversationId: 'gen_ai.conversation.id',
  /** Seconds (semconv), from the request to the first streamed chunk. */
  genAiTimeToFirstChunk: 'gen_ai.response.time_to_first_chunk',
  genAiToolName: 'gen_ai.tool.name',
  genAiToolCallId: 'gen_ai.tool.call.id',
} as const;

let cachedProvider: TracerProvider | undefined;
let cachedTracer: Tracer | undefined;

/**
 * The registered provider's tracer, or undefined when none is registered (the API's no-op).
 * Cached per global proxy: its delegate is set once, and `trace.disable()` replaces the proxy.
 */
export function activeTracer(): Tracer | undefined {
  const p = trace.getTracerProvider();
  if (p !== cachedProvider) {
    cachedProvider = p;
    cachedTracer = undefined;
  }
  cachedTracer ??= p instanceof ProxyTracerProvider ? p.getDelegateTracer(TRACER_NAME) : p.getTracer(TRACER_NAME);
  return cachedTracer;
}

export interface SpanTimes {
  /** Epoch ms. */
  startAt: number;
  /** Epoch ms; clamped to startAt (a span never ends before it starts). */
  endAt: number;
}

/** One finished span (a new trace's root without `parent`); returns the context its children take as parent. */
export function recordSpan(tracer: Tracer, name: string, times: SpanTimes, attributes: Attributes, parent: Context | undefined, error?: string): Context {
  const span = tracer.startSpan(name, { startTime: times.startAt, attributes, root: parent === undefined }, parent ?? ROOT_CONTEXT);
  if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
  span.end(Math.max(times.startAt, times.endAt));
  return trace.setSpan(parent ?? ROOT_CONTEXT, span);
}

/** A turn's own attributes. */
export function turnAttributes(session: SessionInfo, turn: number, interrupted: boolean, playedMs: number | undefined): Attributes {
  const a: Attributes = { [ATTR.sessionId]: session.id, [ATTR.sessionKind]: session.kind, [ATTR.turn]: turn, [ATTR.interrupted]: interrupted };
  if (playedMs !== undefined) a[ATTR.playedMs] = playedMs;
  return a;
}

export interface PipelineTurn {
  session: SessionInfo;
  turn: number;
  /** When the VAD decided the turn was over (the metrics' end of speech). */
  decidedAt: number;
  /** The reply's end (reply.end, or the runner returning), or the barge-in's time. */
  endAt: number;
  /** Set when the caller barged in: how much of the reply was heard. */
  interruption: { playedMs: number } | undefined;
  /** How much of a reply that played out was heard (its playout's own count). */
  playedMs?: number | undefined;
  /** The turn's `metrics` event, when the reply reached the output. */
  metrics: { endOfSpeechToFirstFrameMs: number; handlerFirstFrameMs: number } | undefined;
  /** The handler failed (its error event says why). */
  failed: boolean;
}

/** The `turn` span of a reply-on-pause turn (turn-runner.ts); nothing without a provider. */
export function recordPipelineTurn(t: PipelineTurn): void {
  const tracer = activeTracer();
  if (!tracer) return;
  const a = turnAttributes(t.session, t.turn, t.interruption !== undefined, t.interruption?.playedMs ?? t.playedMs);
  if (t.metrics) {
    a[ATTR.endOfSpeechToFirstFrameMs] = t.metrics.endOfSpeechToFirstFrameMs;
    a[ATTR.handlerFirstFrameMs] = t.metrics.handlerFirstFrameMs;
  }
  recordSpan(tracer, 'turn', { startAt: t.decidedAt, endAt: t.endAt }, a, undefined, t.failed ? 'the handler failed' : undefined);
}
