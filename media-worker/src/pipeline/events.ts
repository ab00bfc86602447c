/**
 * Builders for the pipeline events of the `events` data channel (protocol/src/events.ts). Each
 * returns exactly the fields its strict schema allows, so the client contract cannot drift from
 * what the worker sends.
 */
import type { PipelineEvent } from '@switchboard/protocol';

export type VadStartEvent = Extract<PipelineEvent, { type: 'vad.start' }>;
export type VadEndEvent = Extract<PipelineEvent, { type: 'vad.end' }>;
export type ReplyStartEvent = Extract<PipelineEvent, { type: 'reply.start' }>;
export type ReplyEndEvent = Extract<PipelineEvent, { type: 'reply.end' }>;
export type InterruptedEvent = Extract<PipelineEvent, { type: 'interrupted' }>;
export type TurnMetricsEvent = Extract<PipelineEvent, { type: 'metrics' }>;
export type ErrorEvent = Extract<PipelineEvent, { type: 'error' }>;

export const vadStart = (at: number): VadStartEvent => ({ type: 'vad.start', at });
export const vadEnd = (at: number, speechMs: number): VadEndEvent => ({ type: 'vad.end', at, speechMs: round(speechMs) });
export const replyStart = (at: number, turn: number): ReplyStartEvent => ({ type: 'reply.start', at, turn });
export const replyEnd = (at: number, turn: number): ReplyEndEvent => ({ type: 'reply.end', at, turn });
export const interrupted = (at: number, turn: number, playedMs: number): InterruptedEvent => ({
  type: 'interrupted',
  at,
  turn,
  playedMs: round(Math.max(0, playedMs)),
});
export const turnMetrics = (m: Omit<TurnMetricsEvent, 'type'>): TurnMetricsEvent => ({
  type: 'metrics',
  turn: m.turn,
  endOfSpeechToFirstFrameMs: round(m.endOfSpeechToFirstFrameMs),
  handlerFirstFrameMs: round(m.handlerFirstFrameMs),
  silenceMs: m.silenceMs,
});

/** Error events carry a message for the client; long messages are cut to stay under the channel's size limit. */
export const errorEvent = (message: string): ErrorEvent => ({
  type: 'error',
  message: message.length > 1000 ? `${message.slice(0, 1000)}…` : message,
});

/** Durations to 0.1 ms: sub-microsecond noise is meaningless on the wire. */
function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
