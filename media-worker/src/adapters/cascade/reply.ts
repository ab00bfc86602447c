/**
 * One spoken reply of the cascade: LLM rounds (tool calls run between them, at most
 * `maxToolRounds`), their tokens cut into sentences pushed to one TTS stream as each completes,
 * the TTS audio resampled to the output rate and queued in the outbox between `reply.start` and
 * `reply.end`. Barge-in (`interrupt`) aborts the LLM and TTS, drops the queued audio, clears the
 * playback and cuts this reply's assistant messages in the history to what the caller heard.
 *
 * Stage timestamps (epoch ms, sub-ms) go into one `metrics.stages` event after the first frame,
 * and the same timestamps into the turn's OpenTelemetry spans (telemetry/cascade-spans.ts) when
 * tracing is on (`#trace` undefined otherwise: no span bookkeeping).
 */
import { audioFrame, durationMs, type AudioFrame } from '../../audio/frame.ts';
import { StreamResampler } from '../../audio/resampler.ts';
import type { HandlerContext } from '../../handlers/types.ts';
import { errorEvent, interrupted } from '../../pipeline/events.ts';
import type { ChatMessage, LlmService, ToolCall, TtsService, TtsStream, WordTiming } from '../types.ts';
import { clip, closeToolCalls, type CascadeState } from './history.ts';
import { heardByTime, heardByWords } from './heard.ts';
import type { Outbox } from './outbox.ts';
import { SentenceSplitter } from './sentences.ts';
import { CascadeTurnTrace } from '../../telemetry/cascade-spans.ts';
import { stageMetrics, type StageMarks } from './stage-metrics.ts';
import { runTool, toolDefinition, type CascadeTool, type ToolContext } from './tools.ts';

/** Word timings kept per reply: a TTS cannot make us hold more. */
const MAX_WORDS = 5000;
/** The transcript event's text limit (protocol). */
const MAX_TRANSCRIPT_CHARS = 8192;

export interface ReplyDeps {
  llm: LlmService;
  tts: TtsService;
  tools: readonly CascadeTool[];
  instructions: string | undefined;
  state: CascadeState;
  out: Outbox;
  ctx: HandlerContext;
  now: () => number;
  outputRate: number;
  maxToolRounds: number;
  toolTimeoutMs: number;
}

interface Round {
  text: string;
  /** Its assistant message's index in the history, once committed. */
  message: number | undefined;
}

export class Reply {
  readonly turn: number;
  readonly controller = new AbortController();
  readonly marks: StageMarks;
  /** reply.end was handed to the pipeline (or the reply ended without audio). */
  finished = false;
  interrupted = false;
  readonly #d: ReplyDeps;
  readonly #rounds: Round[] = [];
  readonly #words: WordTiming[] = [];
  /** Audio received from the TTS (ms, at its rate). */
  #audioMs = 0;
  #ttsDone = false;
  /** Audio handed to the pipeline (ms), and when it will have played (epoch ms, estimated). */
  #yieldedMs = 0;
  #playoutEndsAt = 0;
  #started = false;
  readonly #onStop = (): void => this.controller.abort(this.#d.ctx.signal.reason);
  // Tracing only (telemetry/cascade-spans.ts): a user turn's spans, recorded once it is over.
  readonly #trace: CascadeTurnTrace | undefined;
  #lastAudioAt: number | undefined;
  #ttsError: string | undefined;

  /** `stt`: the STT's name and its first words of this turn (epoch ms), for the turn's `stt` span. */
  constructor(deps: ReplyDeps, turn: number, finalAt: number | undefined, stt?: { service: string; startAt: number | undefined; speechEndAt?: number | undefined }) {
    this.#d = deps;
    this.turn = turn;
    this.marks = { finalAt, ...(stt?.speechEndAt !== undefined && { speechEndAt: stt.speechEndAt }) };
    deps.ctx.signal.addEventListener('abort', this.#onStop, { once: true });
    if (finalAt !== undefined) this.#trace = CascadeTurnTrace.start({ session: deps.ctx.session, turn, finalAt, stt, llm: deps.llm, tts: deps.tts });
  }

  /** Being generated, or its audio still playing: what a barge-in cuts. */
  get active(): boolean {
    return !this.interrupted && (!this.finished || this.#d.now() < this.#playoutEndsAt);
  }

  /** The reply's text so far (all rounds). */
  get text(): string {
    return this.#rounds.map((r) => r.text.trim()).filter(Boolean).join(' ');
  }

  /** Runs the reply to its end; `say` speaks that text instead of asking the LLM (the greeting). Never throws: failures become `error` events. */
  async run(say?: string): Promise<void> {
    const d = this.#d;
    const signal = this.controller.signal;
    let tts: TtsStream | undefined;
    let audio: Promise<void> = Promise.resolve();
    try {
      tts = d.tts.open(signal);
      const stream = tts;
      audio = this.#pumpAudio(stream).catch((err: unknown) => this.#fail(d.tts.name, err));
      if (say !== undefined) {
        const r: Round = { text: say, message: undefined };
        this.#rounds.push(r);
        const splitter = new SentenceSplitter();
        for (const s of [...splitter.push(say), ...splitter.flush()]) this.#say(stream, s, d.now());
        this.#commit(r, []);
      } else {
        await this.#generate(stream);
      }
    } catch (err) {
      this.#fail(d.llm.name, err);
    } finally {
      if (!signal.aborted) tts?.end();
    }
    await audio;
    this.#ttsDone = true;
    d.ctx.signal.removeEventListener('abort', this.#onStop);
    // Tracing: the turn ends when its audio has played (estimated), unless a barge-in ends it first (interrupt()).
    if (this.#trace && !this.interrupted) {
      const wait = this.#playoutEndsAt - d.now();
      if (wait <= 0 || d.ctx.signal.aborted) this.#finishTrace(d.now(), false, this.#yieldedMs);
      else setTimeout(() => this.#finishTrace(this.#playoutEndsAt, false, this.#yieldedMs), wait).unref();
    }
    // Cut by the caller or the session's end: nothing more to say. A failed TTS still closes its segment.
    if (this.interrupted || d.ctx.signal.aborted) return;
    const text = this.text;
    if (text) d.out.push({ type: 'transcript', role: 'assistant', text: text.slice(0, MAX_TRANSCRIPT_CHARS), final: true, turn: this.turn }, this.turn);
    if (this.#started) d.out.push({ type: 'reply.end', at: d.now(), turn: this.turn }, this.turn, () => (this.finished = true));
    else this.finished = true;
  }

  /** Barge-in at `at` (epoch ms). False if there was nothing left to cut (the reply had played whole). */
  interrupt(at: number): boolean {
    if (!this.active) return false;
    const d = this.#d;
    this.controller.abort(new Error('the caller interrupted the reply'));
    d.out.dropReply(this.turn);
    // Before its first frame the playback's segment is still the previous reply's: nothing of this one was heard.
    const heardMs = this.#yieldedMs > 0 ? Math.min(this.#yieldedMs, d.ctx.clearPlayback()) : 0;
    if (this.finished && heardMs >= this.#yieldedMs - 20) return false;
    this.interrupted = true;
    this.#finishTrace(at, true, heardMs);
    const full = this.text;
    const heard = this.#words.length > 0 ? heardByWords(full, this.#words, heardMs) : heardByTime(full, heardMs, this.#audioMs, this.#ttsDone);
    this.#cutHistory(heard);
    d.out.push(interrupted(at, this.turn, heardMs));
    d.out.push({ type: 'transcript', role: 'assistant', text: heard.slice(0, MAX_TRANSCRIPT_CHARS), final: true, interrupted: true, turn: this.turn });
    return true;
  }

  async #generate(tts: TtsStream): Promise<void> {
    const d = this.#d;
    const signal = this.controller.signal;
    const splitter = new SentenceSplitter();
    const definitions = d.tools.map(toolDefinition);
    const toolCtx: ToolContext = { signal, session: d.ctx.session, state: d.ctx.state, send: (e) => d.ctx.send(e) };
    for (let round = 0; ; round++) {
      const withTools = definitions.length > 0 && round < d.maxToolRounds;
      const messages: ChatMessage[] = d.instructions ? [{ role: 'system', content: d.instructions }, ...d.state.messages] : [...d.state.messages];
      const r: Round = { text: '', message: undefined };
      this.#rounds.push(r);
      const calls: ToolCall[] = [];
      const requestAt = d.now();
      this.marks.llmRequestAt ??= requestAt;
      const traced = this.#trace?.llmCall(requestAt);
      try {
        for await (const chunk of d.llm.complete(withTools ? { messages, tools: definitions } : { messages }, signal)) {
          const at = d.now();
          this.marks.firstTokenAt ??= at;
          if (traced) {
            traced.firstTokenAt ??= at;
            traced.lastTokenAt = at;
          }
          if (chunk.type === 'tool-call') {
            if (withTools) calls.push(chunk.call);
            continue;
          }
          r.text += chunk.text;
          for (const s of splitter.push(chunk.text)) this.#say(tts, s, at);
        }
      } catch (err) {
        if (traced) traced.error = err instanceof Error ? err.message : String(err);
        throw err;
      } finally {
        if (traced) traced.endAt = d.now();
        // A failed round keeps what it said (it was spoken); an interrupted one is cut by interrupt().
        if (!signal.aborted) {
          for (const s of splitter.flush()) this.#say(tts, s, d.now());
          this.#commit(r, calls);
        }
      }
      if (calls.length === 0 || signal.aborted) return;
      for (const call of calls) {
        const startAt = d.now();
        const content = await runTool(d.tools, call, toolCtx, d.toolTimeoutMs);
        this.#trace?.tool(call.function.name, call.id, startAt, d.now(), content);
        if (signal.aborted) return;
        d.state.messages.push({ role: 'tool', tool_call_id: call.id, content });
      }
    }
  }

  #say(tts: TtsStream, sentence: string, completedAt: number): void {
    this.marks.firstSentenceAt ??= completedAt;
    tts.push(sentence);
    this.marks.ttsRequestAt ??= this.#d.now();
  }

  #commit(r: Round, calls: ToolCall[]): void {
    if (!r.text.trim() && calls.length === 0) return;
    const m: ChatMessage = calls.length > 0 ? { role: 'assistant', content: clip(r.text.trim()), tool_calls: calls } : { role: 'assistant', content: clip(r.text.trim()) };
    r.message = this.#d.state.messages.push(m) - 1;
  }

  async #pumpAudio(tts: TtsStream): Promise<void> {
    const d = this.#d;
    const signal = this.controller.signal;
    const rate = d.tts.sampleRate;
    const resampler = rate === d.outputRate ? undefined : await StreamResampler.create(rate, d.outputRate);
    try {
      for await (const chunk of tts.audio) {
        if (signal.aborted) return;
        const at = d.now();
        this.marks.firstAudioAt ??= at;
        this.#lastAudioAt = at;
        for (const w of chunk.words ?? []) if (this.#words.length < MAX_WORDS) this.#words.push(w);
        this.#audioMs += (chunk.samples.length / rate) * 1000;
        const frame = audioFrame(chunk.samples, rate);
        await this.#emit(resampler ? resampler.process(frame) : frame);
      }
      if (resampler && !signal.aborted) await this.#emit(resampler.flush());
    } finally {
      resampler?.destroy();
    }
  }

  async #emit(frame: AudioFrame): Promise<void> {
    if (frame.samples.length === 0) return;
    const d = this.#d;
    if (!this.#started) {
      this.#started = true;
      d.out.push({ type: 'reply.start', at: d.now(), turn: this.turn }, this.turn);
    }
    const ms = durationMs(frame);
    await d.out.pushAudio(frame, this.turn, this.controller.signal, () => {
      const now = d.now();
      this.#playoutEndsAt = Math.max(this.#playoutEndsAt, now) + ms;
      if (this.#yieldedMs === 0) {
        this.marks.firstFrameAt = now;
        const metrics = stageMetrics(this.turn, this.marks);
        if (metrics) d.out.push(metrics, this.turn);
      }
      this.#yieldedMs += ms;
    });
  }

  #cutHistory(heard: string): void {
    const msgs = this.#d.state.messages;
    const remove: number[] = [];
    let pos = 0;
    for (const r of this.#rounds) {
      const t = r.text.trim();
      if (!t) continue;
      const take = heard.slice(pos, pos + t.length).trim();
      pos += t.length + 1;
      const m = r.message === undefined ? undefined : msgs[r.message];
      if (r.message === undefined || m?.role !== 'assistant') {
        if (take) msgs.push({ role: 'assistant', content: take });
      } else if (take || m.tool_calls) {
        msgs[r.message] = { ...m, content: take };
      } else {
        remove.push(r.message);
      }
    }
    for (const i of remove.reverse()) msgs.splice(i, 1);
    const first = this.#rounds.find((r) => r.message !== undefined)?.message ?? msgs.length;
    closeToolCalls(msgs, first, 'Error: cancelled, the caller interrupted');
  }

  #finishTrace(endAt: number, interrupted: boolean, playedMs: number): void {
    const m = this.marks;
    this.#trace?.finish({ endAt, interrupted, playedMs, ttsRequestAt: m.ttsRequestAt, firstAudioAt: m.firstAudioAt, lastAudioAt: this.#lastAudioAt, firstFrameAt: m.firstFrameAt, ttsError: this.#ttsError });
  }

  #fail(service: string, err: unknown): void {
    if (this.controller.signal.aborted) return;
    const message = err instanceof Error ? err.message : String(err);
    this.#d.out.push(errorEvent(`cascade: ${service} failed: ${message}`), this.turn);
    if (service === this.#d.tts.name) this.#ttsError = message;
    // A broken TTS has nothing more to say; a broken LLM leaves the TTS to speak what it got.
    if (service === this.#d.tts.name) this.controller.abort(err);
  }
}
