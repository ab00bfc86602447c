/**
 * One call's conversation with the Realtime API: the caller's frames go out as
 * `input_audio_buffer.append`, the server's events come in and become audio frames and events
 * for the handler's generator (through a bounded FlowQueue), transcripts and tool calls.
 *
 * Barge-in is handled when `input_audio_buffer.speech_started` arrives, in the socket's message
 * callback, not when the generator reaches it: the pipeline stops pulling the generator while
 * 5 s of audio wait for playout, and the caller must not hear that much more.
 *
 * The conversation is kept as text in ctx.state (history.ts): a new Realtime session (a call taken
 * over, a connection reopened mid-call by connection-supervisor.ts) starts with it. A connection
 * that cannot be reopened ends the handler with an Error naming the cause.
 */
import type { ChannelMessage } from '@switchboard/protocol';
import { audioFrame, type AudioFrame } from '../../audio/frame.ts';
import type { HandlerContext, ReplyChunk } from '../../handlers/types.ts';
import { FlowQueue } from '../shared/flow-queue.ts';
import { ConnectionSupervisor } from './connection-supervisor.ts';
import { ConversationLog } from './history.ts';
import type { ResolvedOptions } from './options.ts';
import { MAX_TRANSCRIPT_CHARS, ReplyTracker, type Reply } from './reply-tracker.ts';
import { Responses } from './responses.ts';
import { greetingResponse, sessionUpdate } from './session-config.ts';
import { MAX_CALLS_PER_RESPONSE, answerToolCalls, type ToolCall } from './tools.ts';
import { REALTIME_SAMPLE_RATE, decodePcm16, encodePcm16, parseServerEvent, pcmMs, type ClientEvent, type ServerEventOf } from './wire.ts';

/** Caller audio allowed to wait in the socket (bytes): 256 KiB is 4 s of base64 PCM16 at 24 kHz; beyond it frames are dropped (and counted). */
const MAX_SEND_BUFFER = 256 * 1024;
/** Bytes of PCM16 per ms at 24 kHz. */
const BYTES_PER_MS = (REALTIME_SAMPLE_RATE * 2) / 1000;

type Item =
  | { kind: 'audio'; reply: Reply; itemId: string; samples: Int16Array }
  | { kind: 'transcript'; reply: Reply; text: string }
  | { kind: 'end'; reply: Reply }
  | { kind: 'event'; event: ChannelMessage };

export interface RealtimeStats {
  /** Model audio held between the socket and playout now (ms). */
  bufferedMs: number;
  /** The most held at once (ms). */
  peakBufferedMs: number;
  /** Times reading the socket was paused because the buffer was full. */
  pauses: number;
  /** Caller frames dropped because the socket to OpenAI was backed up, or down (being reopened). */
  droppedInputFrames: number;
  /** Barge-ins that cut a reply. */
  interruptions: number;
  /** Lost connections replaced by a new one. */
  reconnects: number;
}

export class RealtimeSession {
  readonly #o: ResolvedOptions;
  readonly #ctx: HandlerContext;
  readonly #queue: FlowQueue<Item>;
  readonly #tracker = new ReplyTracker();
  readonly #sup: ConnectionSupervisor;
  #closed = false;
  #turns = 0;
  #bargeIns = 0;
  readonly #rs = new Responses(this.#tracker);
  #droppedInput = 0;
  #droppedAtLoss = 0;
  #interruptions = 0;
  /** The conversation as text in ctx.state (history.ts), replayed into each new model session but the first. */
  readonly #log: ConversationLog<Reply>;

  constructor(o: ResolvedOptions, ctx: HandlerContext) {
    this.#o = o;
    this.#ctx = ctx;
    this.#log = new ConversationLog(ctx.state);
    const restore = (): ClientEvent[] => [sessionUpdate(o), ...this.#log.replay()];
    this.#sup = new ConnectionSupervisor({ ...o, signal: ctx.signal, restore, paused: () => this.#queue.paused }, {
      onMessage: (text) => this.#onMessage(text),
      onLost: (why) => this.#onLost(why),
      onRestored: (r) => ctx.send({ type: 'model.reconnected', ...r, droppedInputFrames: this.#droppedInput - this.#droppedAtLoss }),
      onFailed: (why) => this.#fail(why),
    });
    // Weighted in bytes of audio; what is held is highWater plus one socket read (up to 64 KiB:
    // ~1 s of audio as base64 deltas). A failure reaches the generator at once, dropping what is held.
    const highWater = o.maxBufferedMs * BYTES_PER_MS;
    const bound = { kind: 'pause', highWater, lowWater: highWater / 2, onPause: () => this.#sup.conn?.pause(), onResume: () => this.#sup.conn?.resume() } as const;
    this.#queue = new FlowQueue<Item>({ bound, failure: 'at-once' });
  }

  get stats(): RealtimeStats {
    return {
      bufferedMs: this.#queue.weight / BYTES_PER_MS,
      peakBufferedMs: this.#queue.stats.peakWeight / BYTES_PER_MS,
      pauses: this.#queue.stats.pauses,
      droppedInputFrames: this.#droppedInput,
      interruptions: this.#interruptions,
      reconnects: this.#sup.reconnects,
    };
  }

  async *run(input: AsyncIterable<AudioFrame>): AsyncGenerator<ReplyChunk> {
    const ctx = this.#ctx;
    const onAbort = (): void => this.#shutdown();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      // A call taken over from a lost worker: the new model session learns the conversation so far, and no greeting.
      const greeting = ctx.session.takeover ? undefined : greetingResponse(this.#o);
      try {
        await this.#sup.start([sessionUpdate(this.#o), ...(ctx.session.takeover ? this.#log.replay() : []), ...(greeting ? [greeting] : [])]);
      } catch (err) {
        throw new Error(`openai-realtime: ${err instanceof Error ? err.message : String(err)}`);
      }
      void this.#pumpInput(input);
      for (;;) {
        const next = await this.#queue.next(ctx.signal);
        if (next.done) return;
        const item = next.value;
        if (item.kind === 'audio') {
          const { reply } = item;
          if (reply.turn === undefined) {
            reply.turn = ++this.#turns;
            yield { type: 'reply.start', at: Date.now(), turn: reply.turn };
          }
          // Counted before the yield: the runner pushes a yielded frame to playout before anything else runs.
          this.#tracker.yielded(reply, item.itemId, pcmMs(item.samples.length));
          yield audioFrame(item.samples, REALTIME_SAMPLE_RATE);
        } else if (item.kind === 'transcript') {
          yield { type: 'transcript', role: 'assistant', text: item.text, final: true, ...(item.reply.turn !== undefined && { turn: item.reply.turn }) };
        } else if (item.kind === 'end') {
          if (item.reply.turn !== undefined) yield { type: 'reply.end', at: Date.now(), turn: item.reply.turn };
        } else {
          yield item.event;
        }
      }
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      this.#shutdown();
    }
  }

  /** Push to talk (turnDetection 'none'): commits the caller's audio and asks for a reply. False once the session is closed. */
  commit(): boolean {
    if (this.#closed || !this.#sup.conn) return false;
    this.#send({ type: 'input_audio_buffer.commit' });
    if (!this.#rs.active) this.#send({ type: 'response.create' });
    return true;
  }

  /** The caller starts a turn (push to talk): interrupts the reply playing and drops stale input. */
  interrupt(): void {
    if (this.#closed) return;
    this.#bargeIn();
    this.#send({ type: 'input_audio_buffer.clear' });
  }

  async #pumpInput(input: AsyncIterable<AudioFrame>): Promise<void> {
    try {
      for await (const f of input) {
        if (this.#closed) return;
        if (f.sampleRate !== REALTIME_SAMPLE_RATE || f.channels !== 1) {
          throw new Error(`caller audio must be mono ${REALTIME_SAMPLE_RATE} Hz, got ${f.channels} ch at ${f.sampleRate} Hz`);
        }
        // No connection while one is reopened: the frame is dropped like one the socket has no room for.
        const conn = this.#sup.conn;
        if (!conn || conn.bufferedAmount > MAX_SEND_BUFFER) this.#droppedInput++;
        else conn.send({ type: 'input_audio_buffer.append', audio: encodePcm16(f.samples) });
      }
    } catch (err) {
      this.#fail(`sending caller audio failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  #onMessage(text: string): void {
    if (this.#closed) return;
    const parsed = parseServerEvent(text);
    if (!parsed.ok) return this.#fail(`OpenAI sent ${parsed.error}`);
    const e = parsed.event;
    try {
      switch (e.type) {
        case 'error':
          return this.#onError(e);
        case 'input_audio_buffer.speech_started':
          return this.#bargeIn();
        case 'conversation.item.input_audio_transcription.completed':
          if (e.transcript.trim()) {
            const text = e.transcript.slice(0, MAX_TRANSCRIPT_CHARS);
            this.#log.user(text);
            this.#ctx.send({ type: 'transcript', role: 'user', text, final: true });
          }
          return;
        case 'response.created':
          this.#rs.active = e.response.id;
          return;
        case 'response.output_audio.delta': {
          if (this.#rs.dropped(e.response_id)) return;
          const samples = decodePcm16(e.delta);
          if (samples.length === 0) return;
          const reply = this.#rs.replyFor(e.response_id);
          this.#tracker.received(reply, e.item_id, pcmMs(samples.length));
          this.#queue.push({ kind: 'audio', reply, itemId: e.item_id, samples }, samples.byteLength);
          return;
        }
        case 'response.output_audio_transcript.delta':
          if (!this.#rs.dropped(e.response_id)) this.#tracker.text(this.#rs.replyFor(e.response_id), e.item_id, e.delta, false);
          return;
        case 'response.output_audio_transcript.done': {
          if (this.#rs.dropped(e.response_id)) return;
          const reply = this.#rs.replyFor(e.response_id);
          this.#tracker.text(reply, e.item_id, e.transcript, true);
          const text = e.transcript.slice(0, MAX_TRANSCRIPT_CHARS);
          if (text) {
            this.#log.assistant(reply, text, MAX_TRANSCRIPT_CHARS);
            this.#queue.push({ kind: 'transcript', reply, text }, text.length + 64);
          }
          return;
        }
        case 'response.output_audio.done': {
          if (this.#rs.dropped(e.response_id)) return;
          const it = this.#tracker.item(this.#rs.replyFor(e.response_id), e.item_id);
          if (it) it.audioDone = true;
          return;
        }
        case 'response.function_call_arguments.done': {
          if (!this.#rs.calls.add(e.response_id, { callId: e.call_id, name: e.name, arguments: e.arguments })) {
            this.#ctx.send({ type: 'error', message: `OpenAI Realtime: more than ${MAX_CALLS_PER_RESPONSE} function calls in one response; "${e.name.slice(0, 64)}" was not run` });
          }
          return;
        }
        case 'response.done':
          return this.#onResponseDone(e);
        default:
          return; // session.created/updated and the events the adapter has no use for
      }
    } catch (err) {
      this.#fail(`handling OpenAI's ${e.type} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  #onError(e: ServerEventOf<'error'>): void {
    const code = e.error.code ?? undefined;
    // Our response.cancel lost the race with the server's own (turn_detection.interrupt_response): harmless.
    if (code === 'response_cancel_not_active') return;
    this.#sup.noteError(code, e.error.message);
    this.#ctx.send({ type: 'error', message: `OpenAI Realtime: ${e.error.message}`.slice(0, 1000), ...(code && { code: code.slice(0, 64) }) });
  }

  #onResponseDone(e: ServerEventOf<'response.done'>): void {
    const { reply, calls, cancelled } = this.#rs.done(e.response.id);
    if (cancelled) return; // interrupted: barge-in settled its reply
    if (e.response.status === 'failed') this.#ctx.send({ type: 'error', message: `OpenAI Realtime: response ${e.response.id} failed` });
    // A reply whose response asked for tools goes on with the response to their output.
    if (e.response.status === 'completed' && calls.length > 0) return void this.#runTools(calls);
    const open = reply ?? this.#tracker.open();
    if (open && !open.closed) {
      open.closed = true;
      this.#queue.push({ kind: 'end', reply: open }, 64);
    }
  }

  async #runTools(calls: ToolCall[]): Promise<void> {
    const epoch = this.#bargeIns;
    const losses = this.#sup.losses;
    this.#rs.calls.started(calls);
    const outputs = await answerToolCalls(calls, this.#o.tools, this.#ctx, this.#o.toolTimeoutMs);
    this.#rs.calls.finished(calls);
    // The session that asked was lost meanwhile: the calls were abandoned (model.reconnecting named them).
    if (this.#closed || losses !== this.#sup.losses) return;
    for (const [i, call] of calls.entries()) {
      this.#send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: call.callId, output: outputs[i]! } });
    }
    // After a barge-in the caller is speaking: the server's VAD answers when they finish.
    if (epoch === this.#bargeIns && !this.#rs.active) this.#send({ type: 'response.create' });
  }

  /** The caller started speaking: cut the reply playing to what they heard, here and in the model's memory. */
  #bargeIn(): void {
    this.#bargeIns++;
    if (this.#rs.cancelActive()) this.#send({ type: 'response.cancel' });
    if (!this.#tracker.hasAudio) return;
    this.#queue.remove((it) => it.kind !== 'event');
    const played = this.#ctx.clearPlayback();
    for (const cut of this.#tracker.interrupt(played)) {
      for (const t of cut.truncations) this.#send({ type: 'conversation.item.truncate', item_id: t.itemId, content_index: 0, audio_end_ms: t.audioEndMs });
      this.#log.heard(cut.reply, cut.heardText);
      if (cut.reply.turn === undefined) continue; // never started playing: nothing the client saw
      this.#interruptions++;
      const turn = cut.reply.turn;
      this.#queue.push({ kind: 'event', event: { type: 'interrupted', at: Date.now(), turn, playedMs: Math.round(cut.heardMs * 10) / 10 } }, 64);
      this.#queue.push({ kind: 'event', event: { type: 'transcript', role: 'assistant', text: cut.heardText, interrupted: true, turn } }, cut.heardText.length + 64);
    }
  }

  /**
   * The model session was lost (another is being opened): its response and tool calls will not finish. The reply being
   * received plays what came and ends there; its transcript (client, log, replay) is the text received with that audio.
   */
  #onLost(why: string): void {
    const abandonedToolCalls = this.#rs.lost();
    const lost = this.#tracker.detach();
    if (lost?.text) {
      this.#log.assistant(lost.reply, lost.text, MAX_TRANSCRIPT_CHARS);
      this.#queue.push({ kind: 'transcript', reply: lost.reply, text: lost.text }, lost.text.length + 64);
    }
    if (lost) this.#queue.push({ kind: 'end', reply: lost.reply }, 64);
    this.#droppedAtLoss = this.#droppedInput;
    this.#ctx.send({ type: 'model.reconnecting', message: `OpenAI Realtime: ${why}`.slice(0, 1000), ...(abandonedToolCalls.length > 0 && { abandonedToolCalls }) });
  }

  #send(event: ClientEvent): void {
    this.#sup.conn?.send(event);
  }

  #fail(why: string): void {
    if (this.#closed) return;
    this.#queue.fail(new Error(`openai-realtime: ${why}`));
    this.#shutdown();
  }

  #shutdown(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.end();
    this.#sup.close();
  }
}
