/**
 * `cascade({ stt, llm, tts })`: a voice agent from three services, as a `stream` handler.
 *
 *   export default cascade({ stt: deepgramStt(), llm: openaiChat({ model: 'gpt-4o-mini' }), tts: elevenlabsTts({ voiceId }), instructions: '…' });
 *
 * The caller's audio goes to the STT at its rate; each end of turn sends the conversation to the
 * LLM; its reply is spoken sentence by sentence through the TTS (conversation.ts, reply.ts). The
 * client gets `transcript` events for both sides, `reply.start`/`reply.end` around each reply,
 * one `metrics.stages` per turn, and `interrupted` when the caller barges in. The conversation
 * (bounded: history.ts) lives in `ctx.state.cascade`, so it survives a worker takeover.
 */
import { MAX_SAMPLE_RATE, MIN_SAMPLE_RATE } from '../../handlers/validate.ts';
import { stream, type StreamHandler } from '../../handlers/stream.ts';
import type { LlmService, SttService, TtsService } from '../types.ts';
import { Conversation } from './conversation.ts';
import { DEFAULT_HISTORY_LIMITS, MAX_MESSAGE_CHARS, type HistoryLimits } from './history.ts';
import type { CascadeTool } from './tools.ts';

export interface CascadeOptions {
  stt: SttService;
  llm: LlmService;
  tts: TtsService;
  /** The system message. */
  instructions?: string;
  /** Functions the LLM may call. */
  tools?: readonly CascadeTool[];
  /** Spoken when the session starts (not after a takeover: the caller was greeted). */
  greeting?: string;
  /** Rate of the audio handed to the pipeline. Default: the TTS's own (no resampling). */
  sampleRate?: number;
  /** LLM calls with tools per reply; the last round is asked without tools. Default 5. */
  maxToolRounds?: number;
  /** A tool's answer time (ms). Default 10000. */
  toolTimeoutMs?: number;
  /** History bounds. Default 50 messages, 32 KiB of JSON. */
  history?: Partial<HistoryLimits>;
  /** Where in ctx.state the conversation lives. Default "cascade". */
  stateKey?: string;
}

const KNOWN = ['stt', 'llm', 'tts', 'instructions', 'tools', 'greeting', 'sampleRate', 'maxToolRounds', 'toolTimeoutMs', 'history', 'stateKey'];

export function cascade(options: CascadeOptions): StreamHandler {
  const where = 'cascade';
  if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options must be an object`);
  for (const k of Object.keys(options)) if (!KNOWN.includes(k)) throw new TypeError(`${where}: unknown option "${k}" (known: ${KNOWN.join(', ')})`);
  const { stt, llm, tts } = options;
  if (typeof stt?.connect !== 'function' || !Number.isInteger(stt.sampleRate)) throw new TypeError(`${where}: "stt" must be an SttService (e.g. deepgramStt())`);
  if (typeof llm?.complete !== 'function') throw new TypeError(`${where}: "llm" must be an LlmService (e.g. openaiChat())`);
  if (typeof tts?.open !== 'function' || !Number.isInteger(tts.sampleRate)) throw new TypeError(`${where}: "tts" must be a TtsService`);
  const outputRate = options.sampleRate ?? tts.sampleRate;
  if (!Number.isInteger(outputRate) || outputRate < MIN_SAMPLE_RATE || outputRate > MAX_SAMPLE_RATE) {
    throw new RangeError(`${where}: sampleRate must be an integer in ${MIN_SAMPLE_RATE}..${MAX_SAMPLE_RATE}, got ${outputRate}`);
  }
  const tools = options.tools ?? [];
  const names = new Set<string>();
  for (const t of tools) {
    if (typeof t?.run !== 'function' || typeof t.name !== 'string' || typeof t.parameters !== 'object' || t.parameters === null) {
      throw new TypeError(`${where}: each tool needs a name, parameters (JSON Schema) and a run(args, ctx) function`);
    }
    if (names.has(t.name)) throw new TypeError(`${where}: two tools are named "${t.name}"`);
    names.add(t.name);
  }
  for (const k of ['instructions', 'greeting'] as const) {
    const v = options[k];
    if (v !== undefined && (typeof v !== 'string' || v.length > MAX_MESSAGE_CHARS * 4)) throw new TypeError(`${where}: "${k}" must be a string of at most ${MAX_MESSAGE_CHARS * 4} characters`);
  }
  const maxToolRounds = options.maxToolRounds ?? 5;
  const toolTimeoutMs = options.toolTimeoutMs ?? 10_000;
  if (!Number.isInteger(maxToolRounds) || maxToolRounds < 0 || maxToolRounds > 20) throw new RangeError(`${where}: maxToolRounds must be an integer in 0..20`);
  if (!(toolTimeoutMs > 0 && toolTimeoutMs <= 300_000)) throw new RangeError(`${where}: toolTimeoutMs must be in 1..300000`);
  const history = { ...DEFAULT_HISTORY_LIMITS, ...options.history };
  if (!(history.maxMessages >= 2) || !(history.maxBytes >= 4096 && history.maxBytes <= 60_000)) {
    throw new RangeError(`${where}: history needs maxMessages >= 2 and maxBytes in 4096..60000 (ctx.state is checkpointed up to 64 KiB)`);
  }
  const config = {
    stt,
    llm,
    tts,
    instructions: options.instructions,
    tools,
    greeting: options.greeting,
    outputRate,
    maxToolRounds,
    toolTimeoutMs,
    history,
    stateKey: options.stateKey ?? 'cascade',
    // Epoch ms with sub-ms precision: the hand-offs it measures are well under a millisecond.
    now: () => performance.timeOrigin + performance.now(),
  };
  return stream((input, ctx) => new Conversation(config, ctx).run(input), { inputSampleRate: stt.sampleRate });
}
