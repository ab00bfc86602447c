import { z } from 'zod';

/**
 * The `events` WebRTC data channel (JSON objects with a `type`, both ways).
 * Worker -> client: pipeline events below plus handler events (any other `type`).
 * Client -> worker: inputs the handler reads (`{type: "input", ...}`) or any object with a `type`.
 * Liveness: a client's `{type: "ping", t?}` is answered at once by the worker's transport with
 * `{type: "pong", t}` (the same `t`) and never reaches the handler; a client that stops hearing
 * pongs knows its media path or worker is gone well before ICE gives up, and resumes.
 */
export const MAX_EVENT_BYTES = 16384;

export const VadStart = z.strictObject({ type: z.literal('vad.start'), at: z.number() });
export const VadEnd = z.strictObject({ type: z.literal('vad.end'), at: z.number(), speechMs: z.number() });
export const ReplyStart = z.strictObject({ type: z.literal('reply.start'), at: z.number(), turn: z.number().int() });
export const ReplyEnd = z.strictObject({ type: z.literal('reply.end'), at: z.number(), turn: z.number().int() });
export const Interrupted = z.strictObject({
  type: z.literal('interrupted'),
  at: z.number(),
  turn: z.number().int(),
  /** How much of the reply the user heard before the interruption. */
  playedMs: z.number(),
});
export const TurnMetrics = z.strictObject({
  type: z.literal('metrics'),
  turn: z.number().int(),
  /** End of the user's speech (as decided by the VAD) to the first reply frame sent. */
  endOfSpeechToFirstFrameMs: z.number(),
  /** Handler call to its first yielded frame. */
  handlerFirstFrameMs: z.number(),
  /** The configured silence that decided the end of the turn. */
  silenceMs: z.number(),
});
/**
 * Per-stage timings of one turn of a cascaded agent (speech to text, language model, text to
 * speech), sent by the cascade after the turn's first audio. Stage latencies are the providers';
 * hand-offs are the platform's own overhead between them.
 */
export const StageMetrics = z.strictObject({
  type: z.literal('metrics.stages'),
  turn: z.number().int(),
  /**
   * The end of the caller's speech, as the STT placed it in the audio sent to it, to its final
   * transcript received: the STT's endpointing and latency (when the STT says where speech ended).
   */
  sttFinalMs: z.number().optional(),
  /** Final transcript to the LLM request sent (platform). */
  sttToLlmMs: z.number(),
  /** LLM request to its first token. */
  llmFirstTokenMs: z.number(),
  /** First complete sentence to the TTS request sent (platform). */
  sentenceToTtsMs: z.number(),
  /** TTS request to its first audio. */
  ttsFirstAudioMs: z.number(),
  /** First TTS audio received to its first frame handed to the transport (platform). */
  ttsToOutputMs: z.number(),
  /** Final transcript to the first reply frame handed to the transport. */
  totalMs: z.number(),
});
export type StageMetrics = z.infer<typeof StageMetrics>;

/** A transcript line of the conversation, from a cascade or speech-to-speech adapter. */
export const TranscriptEvent = z.strictObject({
  type: z.literal('transcript'),
  role: z.enum(['user', 'assistant']),
  text: z.string().max(8192),
  /** False while the words may still change (interim STT); absent or true once final. */
  final: z.boolean().optional(),
  /** The assistant's reply was cut by barge-in: `text` is what the caller heard. */
  interrupted: z.boolean().optional(),
  turn: z.number().int().optional(),
});
export type TranscriptEvent = z.infer<typeof TranscriptEvent>;

/** `code` names a class of error the client may act on (`abuse`: the data channel's limits). */
export const ErrorEvent = z.strictObject({ type: z.literal('error'), message: z.string(), code: z.string().max(64).optional() });

export const PipelineEvent = z.discriminatedUnion('type', [
  VadStart,
  VadEnd,
  ReplyStart,
  ReplyEnd,
  Interrupted,
  TurnMetrics,
  StageMetrics,
  TranscriptEvent,
  ErrorEvent,
]);
export type PipelineEvent = z.infer<typeof PipelineEvent>;
export type VadStart = z.infer<typeof VadStart>;
export type VadEnd = z.infer<typeof VadEnd>;
export type ReplyStart = z.infer<typeof ReplyStart>;
export type ReplyEnd = z.infer<typeof ReplyEnd>;
export type Interrupted = z.infer<typeof Interrupted>;
export type TurnMetrics = z.infer<typeof TurnMetrics>;
export type ErrorEvent = z.infer<typeof ErrorEvent>;

/** Any event on the channel: a JSON object with a non-empty string `type`. */
export const ChannelMessage = z.looseObject({ type: z.string().min(1).max(64) });
export type ChannelMessage = z.infer<typeof ChannelMessage>;

export function parseChannelMessage(text: string): { ok: true; value: ChannelMessage } | { ok: false; error: string } {
  if (text.length > MAX_EVENT_BYTES) return { ok: false, error: `event larger than ${MAX_EVENT_BYTES} bytes` };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: 'event is not JSON' };
  }
  const r = ChannelMessage.safeParse(raw);
  return r.success ? { ok: true, value: r.data } : { ok: false, error: 'event must be an object with a string "type"' };
}
