/**
 * The spans of one cascade turn (adapters/cascade/reply.ts), from the timestamps the reply takes
 * for its `metrics.stages` event:
 *
 *   turn  [STT final (end of turn) → reply.end handed over, or the barge-in]
 *   ├─ stt   [first recognized words of the turn → final transcript]  (starts before its parent:
 *   │         recognition runs while the caller speaks, before the turn exists)
 *   ├─ llm   one per LLM call (tool rounds): [request → last token]
 *   ├─ tool  one per tool call: [call → result]
 *   └─ tts   [first sentence sent → last audio received]
 *
 * `CascadeTurnTrace.start` returns undefined without a registered provider: the reply then does
 * no span bookkeeping at all. Bounded: at most MAX_CHILD_RECORDS llm/tool records per turn.
 */
import type { Attributes } from '@opentelemetry/api';
import type { SessionInfo } from '../handlers/types.ts';
import { ATTR, activeTracer, recordSpan, turnAttributes } from './spans.ts';

/** LLM calls and tool calls kept per turn (a reply has at most 21 LLM rounds). */
const MAX_CHILD_RECORDS = 64;

/** Adapter names whose gen_ai.provider.name (semconv well-known value) differs from the name. */
const GEN_AI_PROVIDERS: Record<string, string> = { 'openai-chat': 'openai', 'openai-realtime': 'openai' };

export interface LlmCallRecord {
  readonly requestAt: number;
  firstTokenAt?: number;
  lastTokenAt?: number;
  /** The stream's end (or failure): the span's end when no token came. */
  endAt?: number;
  error?: string;
}

export interface CascadeTurnStart {
  session: SessionInfo;
  turn: number;
  /** The STT final with end of turn (epoch ms): the turn's start. */
  finalAt: number;
  /** The STT's name and its first recognized words of the turn (epoch ms). */
  stt: { service: string; startAt: number | undefined } | undefined;
  /** The LlmService; its `model`, if it exposes one, becomes gen_ai.request.model. */
  llm: { readonly name: string; readonly model?: string | undefined };
  tts: { readonly name: string };
}

export interface CascadeTurnEnd {
  endAt: number;
  interrupted: boolean;
  playedMs: number;
  ttsRequestAt: number | undefined;
  firstAudioAt: number | undefined;
  lastAudioAt: number | undefined;
  firstFrameAt: number | undefined;
  /** The TTS failed: its error. */
  ttsError?: string;
}

interface ToolRecord {
  name: string;
  callId: string;
  startAt: number;
  endAt: number;
  error: string | undefined;
}

export class CascadeTurnTrace {
  readonly #s: CascadeTurnStart;
  readonly #llm: LlmCallRecord[] = [];
  readonly #tools: ToolRecord[] = [];
  #done = false;

  private constructor(start: CascadeTurnStart) {
    this.#s = start;
  }

  /** A trace for the turn, or undefined when no tracer provider is registered. */
  static start(start: CascadeTurnStart): CascadeTurnTrace | undefined {
    return activeTracer() ? new CascadeTurnTrace(start) : undefined;
  }

  /** An LLM call sent at `requestAt`; the caller fills in its token times as they come. */
  llmCall(requestAt: number): LlmCallRecord {
    const r: LlmCallRecord = { requestAt };
    if (this.#llm.length < MAX_CHILD_RECORDS) this.#llm.push(r);
    return r;
  }

  /** A tool call run from `startAt` to `endAt`; `result` starting "Error: " marks it failed (tools.ts). */
  tool(name: string, callId: string, startAt: number, endAt: number, result: string): void {
    if (this.#tools.length >= MAX_CHILD_RECORDS) return;
    this.#tools.push({ name, callId, startAt, endAt, error: result.startsWith('Error: ') ? result.slice(7, 200) : undefined });
  }

  /** Records the turn and its stage spans; only the first call counts. */
  finish(e: CascadeTurnEnd): void {
    if (this.#done) return;
    this.#done = true;
    const tracer = activeTracer();
    if (!tracer) return;
    const s = this.#s;
    const a = turnAttributes(s.session, s.turn, e.interrupted, e.playedMs);
    if (e.firstFrameAt !== undefined) a[ATTR.endOfSpeechToFirstFrameMs] = ms(e.firstFrameAt - s.finalAt);
    const parent = recordSpan(tracer, 'turn', { startAt: s.finalAt, endAt: e.endAt }, a, undefined);
    const common: Attributes = { [ATTR.sessionId]: s.session.id, [ATTR.turn]: s.turn };

    if (s.stt?.startAt !== undefined) {
      recordSpan(tracer, 'stt', { startAt: s.stt.startAt, endAt: s.finalAt }, { ...common, [ATTR.service]: s.stt.service }, parent);
    }
    const provider = GEN_AI_PROVIDERS[s.llm.name] ?? s.llm.name;
    const model = s.llm.model;
    for (const c of this.#llm) {
      const la: Attributes = {
        ...common,
        [ATTR.service]: s.llm.name,
        [ATTR.genAiOperation]: 'chat',
        [ATTR.genAiProvider]: provider,
        [ATTR.genAiConversationId]: s.session.id,
      };
      if (typeof model === 'string') la[ATTR.genAiModel] = model;
      if (c.firstTokenAt !== undefined) {
        la[ATTR.firstTokenMs] = ms(c.firstTokenAt - c.requestAt);
        la[ATTR.genAiTimeToFirstChunk] = (c.firstTokenAt - c.requestAt) / 1000;
      }
      const endAt = c.lastTokenAt ?? c.endAt ?? e.endAt;
      recordSpan(tracer, 'llm', { startAt: c.requestAt, endAt }, la, parent, c.error);
    }
    for (const t of this.#tools) {
      const ta: Attributes = { ...common, [ATTR.genAiOperation]: 'execute_tool', [ATTR.genAiToolName]: t.name, [ATTR.genAiToolCallId]: t.callId };
      recordSpan(tracer, 'tool', t, ta, parent, t.error);
    }
    if (e.ttsRequestAt !== undefined) {
      const ta: Attributes = { ...common, [ATTR.service]: s.tts.name };
      if (e.firstAudioAt !== undefined) ta[ATTR.firstAudioMs] = ms(e.firstAudioAt - e.ttsRequestAt);
      recordSpan(tracer, 'tts', { startAt: e.ttsRequestAt, endAt: e.lastAudioAt ?? e.endAt }, ta, parent, e.ttsError);
    }
  }
}

/** The stage events' rounding (cascade/stage-metrics.ts: µs). */
function ms(v: number): number {
  return Math.round(v * 1000) / 1000;
}
