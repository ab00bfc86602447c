/**
 * The cascade's session loop: caller audio to the STT session (resampled to its rate), STT events
 * to turns, one Reply at a time, everything the pipeline must play or send through one Outbox.
 *
 * - `final` transcripts accumulate; the one with `endOfTurn` starts a reply with the turn's text.
 * - Barge-in: `speech-started`, an interim or a final with words while a reply is generated or
 *   still playing cuts it (Reply.interrupt).
 * - An STT failure (or its session ending on its own) fails the handler with the STT's error:
 *   without ears the cascade cannot go on, and the pipeline ends the session with an `error`.
 */
import type { AudioFrame } from '../../audio/frame.ts';
import { toMono } from '../../audio/pcm.ts';
import { StreamResampler } from '../../audio/resampler.ts';
import type { HandlerContext, ReplyChunk } from '../../handlers/types.ts';
import type { LlmService, SttEvent, SttService, SttSession, TtsService } from '../types.ts';
import { clip, loadState, trimHistory, type CascadeState, type HistoryLimits } from './history.ts';
import { Outbox } from './outbox.ts';
import { Reply, type ReplyDeps } from './reply.ts';
import { SentAudioClock } from './sent-audio-clock.ts';
import type { CascadeTool } from './tools.ts';

export interface ConversationConfig {
  stt: SttService;
  llm: LlmService;
  tts: TtsService;
  instructions: string | undefined;
  tools: readonly CascadeTool[];
  greeting: string | undefined;
  outputRate: number;
  maxToolRounds: number;
  toolTimeoutMs: number;
  history: HistoryLimits;
  stateKey: string;
  now: () => number;
}

/** The turn's finals kept while the caller speaks: a bound on what the STT can make us hold. */
const MAX_PENDING_CHARS = 8000;

export class Conversation {
  readonly #c: ConversationConfig;
  readonly #ctx: HandlerContext;
  readonly #state: CascadeState;
  readonly #out = new Outbox();
  #current: Reply | undefined;
  #pending: string[] = [];
  /** Tracing only: when the STT reported the turn's first words (interim or final), for its `stt` span. */
  #sttStartAt: number | undefined;
  /** When the audio the STT last placed the end of speech in was sent (this turn's final). */
  #speechEndAt: number | undefined;
  readonly #sentClock = new SentAudioClock();
  #inResampler: StreamResampler | undefined;

  constructor(config: ConversationConfig, ctx: HandlerContext) {
    this.#c = config;
    this.#ctx = ctx;
    this.#state = loadState(ctx.state, config.stateKey);
  }

  async *run(input: AsyncIterable<AudioFrame>): AsyncGenerator<ReplyChunk> {
    const { stt } = this.#c;
    const ctx = this.#ctx;
    const out = this.#out;
    const onStop = (): void => out.end();
    ctx.signal.addEventListener('abort', onStop, { once: true });
    let session: SttSession | undefined;
    try {
      try {
        session = await stt.connect(ctx.signal);
      } catch (err) {
        if (ctx.signal.aborted) return;
        throw new Error(`cascade: ${stt.name} STT cannot start: ${message(err)}`);
      }
      void this.#pumpInput(input, session);
      void this.#readEvents(session);
      if (this.#c.greeting && !ctx.session.takeover) this.#startReply(undefined, undefined, this.#c.greeting);
      for (;;) {
        const item = await out.next();
        if (!item) return;
        yield item.chunk;
        item.onYield?.();
      }
    } finally {
      ctx.signal.removeEventListener('abort', onStop);
      this.#current?.controller.abort(new Error('the session ended'));
      out.end();
      session?.close().catch(() => undefined);
      this.#inResampler?.destroy();
    }
  }

  async #pumpInput(input: AsyncIterable<AudioFrame>, session: SttSession): Promise<void> {
    try {
      for await (const f of input) {
        const s = await this.#toStt(f);
        session.send(s.samples);
        this.#sentClock.sent((s.samples.length / s.sampleRate) * 1000, this.#c.now());
      }
    } catch (err) {
      this.#out.fail(new Error(`cascade: caller audio failed: ${message(err)}`));
    }
  }

  /** The frame at the STT's rate, mono. */
  async #toStt(f: AudioFrame): Promise<AudioFrame> {
    const mono = f.channels === 1 ? f : toMono(f);
    const rate = this.#c.stt.sampleRate;
    if (mono.sampleRate === rate) return mono;
    if (this.#inResampler?.fromRate !== mono.sampleRate) {
      this.#inResampler?.destroy();
      this.#inResampler = await StreamResampler.create(mono.sampleRate, rate);
    }
    return this.#inResampler.process(mono);
  }

  async #readEvents(session: SttSession): Promise<void> {
    const name = this.#c.stt.name;
    try {
      for await (const ev of session.events) this.#onSttEvent(ev);
      if (!this.#ctx.signal.aborted) this.#out.fail(new Error(`cascade: the ${name} STT session ended`));
    } catch (err) {
      if (!this.#ctx.signal.aborted) this.#out.fail(new Error(`cascade: ${name} STT failed: ${message(err)}`));
    }
  }

  #onSttEvent(ev: SttEvent): void {
    switch (ev.type) {
      case 'speech-started':
        this.#bargeIn(ev.at);
        return;
      case 'interim':
        this.#bargeIn(ev.at);
        if (ev.text) this.#sttStartAt ??= ev.at;
        this.#out.push({ type: 'transcript', role: 'user', text: clip(ev.text, 8192), final: false });
        return;
      case 'final': {
        if (ev.text) {
          this.#bargeIn(ev.at);
          this.#sttStartAt ??= ev.at;
          if (ev.audioEndMs !== undefined) this.#speechEndAt = this.#sentClock.wallTimeOf(ev.audioEndMs) ?? this.#speechEndAt;
          if (this.#pending.join(' ').length < MAX_PENDING_CHARS) this.#pending.push(ev.text);
        }
        if (!ev.endOfTurn || this.#pending.length === 0) return;
        const text = this.#pending.join(' ');
        this.#pending = [];
        this.#startReply(text, ev.at, undefined);
      }
    }
  }

  #bargeIn(at: number): void {
    if (this.#current?.active) this.#current.interrupt(at);
  }

  /** A reply to the caller's `userText` (final at `finalAt`), or speaking `say` (the greeting). */
  #startReply(userText: string | undefined, finalAt: number | undefined, say: string | undefined): void {
    this.#bargeIn(this.#c.now());
    const state = this.#state;
    if (userText !== undefined) state.messages.push({ role: 'user', content: clip(userText) });
    trimHistory(state.messages, this.#c.history);
    const turn = ++state.turn;
    if (userText !== undefined) this.#out.push({ type: 'transcript', role: 'user', text: clip(userText, 8192), final: true, turn });
    const c = this.#c;
    const deps: ReplyDeps = {
      llm: c.llm,
      tts: c.tts,
      tools: c.tools,
      instructions: c.instructions,
      state,
      out: this.#out,
      ctx: this.#ctx,
      now: c.now,
      outputRate: c.outputRate,
      maxToolRounds: c.maxToolRounds,
      toolTimeoutMs: c.toolTimeoutMs,
    };
    const reply = new Reply(deps, turn, finalAt, { service: c.stt.name, startAt: this.#sttStartAt, speechEndAt: this.#speechEndAt });
    this.#sttStartAt = undefined;
    this.#speechEndAt = undefined;
    this.#current = reply;
    void reply.run(say);
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
