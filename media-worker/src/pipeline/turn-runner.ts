/**
 * The reply-on-pause loop of one session:
 *   caller audio → StreamingVad (32 ms windows) → TurnDetector (end of turn decided per window,
 *   or between windows on 10 ms energy blocks once the VAD has heard the silence start)
 *   and, alongside, the same audio converted to the handler's input rate in a TurnAudioBuffer.
 * On `speech.start` the client gets `vad.start`; on `speech.end` it gets `vad.end` and the handler
 * is called with the turn under a fresh AbortController; runReply plays its output. The turn is
 * mono at the handler's inputSampleRate and spans [speech start - PRE_ROLL_MS, last speech +
 * TAIL_MS] (never into the silence that decided the end beyond that).
 *
 * Barge-in (`canInterrupt`, the default): speech starting while a reply is generating or still
 * playing drops its queued audio (`output.clear()`, which on a phone also sends Twilio `clear`),
 * aborts that reply's signal at once and sends `interrupted {turn, playedMs}`; the new speech then
 * becomes the next turn as usual.
 * Without `canInterrupt`, speech that starts during a reply is ignored entirely: no vad events,
 * and it does not become a turn, even if it ends after the reply does.
 */
import { audioFrame, durationMs, type AudioFrame } from '../audio/frame.ts';
import type { ReplyOnPauseHandler } from '../handlers/reply-on-pause.ts';
import type { ChannelMessage } from '@switchboard/protocol';
import { InterruptedError } from '../handlers/interrupted-error.ts';
import type { HandlerContext, ReplyChunk } from '../handlers/types.ts';
import { TurnDetector, type TurnEvent } from './turn-detector.ts';
import type { VadFrame } from '../vad/streaming-vad.ts';
import { energyBlocks } from './energy-blocks.ts';
import { errorEvent, interrupted, turnMetrics, vadEnd, vadStart, type TurnMetricsEvent } from './events.ts';
import { InputConverter } from './input-converter.ts';
import { runReply } from './reply-runner.ts';
import { SerialQueue } from './serial-queue.ts';
import type { SessionContext } from './session-context.ts';
import { TurnAudioBuffer } from './turn-audio.ts';
import { recordPipelineTurn } from '../telemetry/spans.ts';

/** What the pipeline needs of a VAD stream (vad/streaming-vad.ts's StreamingVad). */
export interface VadStream {
  push(frame: AudioFrame): Promise<readonly VadFrame[]>;
  close?(): void;
}

/** Audio kept before the detected speech start: Silero reacts a window or two after the onset. */
export const PRE_ROLL_MS = 200;
/** Audio kept after the last speech window: word endings often score below the threshold. */
export const TAIL_MS = 200;
/** A speech.start is reported at the end of its first 32 ms window; hold audio from a bit earlier. */
const START_SLACK_MS = 64;
/** Caller frames allowed to wait for the VAD before new ones are dropped (~5 s of 20 ms frames). */
const MAX_BACKLOG_FRAMES = 250;

interface ActiveReply {
  readonly turn: number;
  readonly controller: AbortController;
  /** Set by a barge-in (for the turn's trace span). */
  interruption?: { at: number; playedMs: number };
}

export interface TurnRunnerOptions {
  sc: SessionContext;
  handler: ReplyOnPauseHandler;
  createVad: () => VadStream | Promise<VadStream>;
  onMetrics: ((m: TurnMetricsEvent) => void) | undefined;
  /** The session cannot go on (the VAD failed to start): the pipeline stops with this reason. */
  onFatal: (reason: string) => void;
  /** A turn ended (its reply finished or was interrupted): checkpoints `ctx.state` if it changed. */
  checkpoint: () => void;
}

export class TurnRunner {
  private readonly o: TurnRunnerOptions;
  private readonly detector: TurnDetector;
  private readonly converter: InputConverter;
  private readonly audio: TurnAudioBuffer;
  private readonly queue: SerialQueue;
  private readonly vad: Promise<VadStream | undefined>;
  private readonly replies = new Set<Promise<void>>();
  private active: ActiveReply | undefined;
  /** Speech that started during a reply with canInterrupt off: ignored until it ends. */
  private ignoring = false;
  private turns = 0;
  /** Caller audio given to the VAD so far: the time base of its windows and of the energy blocks. */
  private inputMs = 0;

  constructor(o: TurnRunnerOptions) {
    this.o = o;
    const opts = o.handler.options;
    this.detector = new TurnDetector({
      speechThreshold: opts.speechThreshold,
      silenceMs: opts.silenceMs,
      minSpeechMs: opts.minSpeechMs,
      maxSpeechMs: opts.maxSpeechMs,
    });
    this.converter = new InputConverter(opts.inputSampleRate);
    this.audio = new TurnAudioBuffer(opts.inputSampleRate, {
      idleKeepMs: PRE_ROLL_MS + START_SLACK_MS + 1000,
      maxHoldMs: opts.maxSpeechMs + PRE_ROLL_MS + START_SLACK_MS + 1000,
    });
    this.queue = new SerialQueue(MAX_BACKLOG_FRAMES, (err) => {
      o.sc.log.error('pipeline: caller audio processing failed', { session: o.sc.session.id, error: String(err) });
    });
    // Created at once, so a VAD that cannot start fails the session before the caller speaks.
    this.vad = Promise.resolve()
      .then(o.createVad)
      .catch((err: unknown) => {
        o.sc.log.error('pipeline: VAD failed to start', { session: o.sc.session.id, error: String(err) });
        o.sc.send(errorEvent('voice activity detection failed to start'));
        o.onFatal('vad-failed');
        return undefined;
      });
  }

  /**
   * Plays the greeting, if the handler has one (turn 0: no vad events and no metrics); not on a
   * call taken over from a lost worker, where the caller has been greeted already.
   */
  start(): void {
    const greeting = this.o.handler.options.greeting;
    if (greeting && !this.o.sc.session.takeover) this.startReply(0, undefined, (ctx) => greeting(ctx));
  }

  /**
   * A client event (data-channel message, phone keypress): given to the handler's onEvent; a reply
   * it returns interrupts the one in progress and plays as the next turn (no vad events, no metrics).
   */
  onEvent(event: ChannelMessage): void {
    const { sc, handler } = this.o;
    const onEvent = handler.options.onEvent;
    if (!onEvent || sc.stopped) return;
    const { controller, release } = sc.replyController();
    let reply: AsyncIterable<ReplyChunk> | void;
    try {
      reply = onEvent(event, sc.handlerContext(controller.signal));
    } catch (err) {
      release();
      sc.stats.handlerErrors++;
      sc.log.error('handler onEvent failed', { session: sc.session.id, event: event.type, error: String(err) });
      sc.send(errorEvent(`handler onEvent failed: ${err instanceof Error ? err.message : String(err)}`));
      return;
    }
    release();
    if (reply === undefined) return;
    if (this.active) this.interrupt(this.active);
    this.startReply(++this.turns, undefined, () => reply);
  }

  /** Caller audio, in arrival order (any rate and channel count). */
  onAudio(frame: AudioFrame): void {
    if (this.o.sc.stopped) return;
    if (!this.queue.push(() => this.process(frame))) {
      const stats = this.o.sc.stats;
      if (stats.droppedInputFrames++ % 50 === 0) {
        this.o.sc.log.warn('pipeline: VAD falling behind, dropping caller audio', { session: this.o.sc.session.id, dropped: stats.droppedInputFrames });
      }
    }
  }

  /** After the session's lifetime signal aborted: waits for work in flight, then frees the VAD and resampler. */
  async shutdown(): Promise<void> {
    await this.queue.idle();
    await Promise.allSettled([...this.replies]);
    (await this.vad)?.close?.();
    this.converter.close();
  }

  private async process(frame: AudioFrame): Promise<void> {
    const vad = await this.vad;
    if (!vad || this.o.sc.stopped) return;
    // The turn's copy first, so the audio of any window the VAD reports below is already here.
    this.audio.append((await this.converter.convert(frame)).samples);
    // The frame's energy before its VAD windows: quiet audio can end a turn before the next window.
    const blocks = energyBlocks(frame, this.inputMs);
    this.inputMs += durationMs(frame);
    for (const b of blocks) {
      for (const ev of this.detector.pushEnergy(b)) {
        if (this.o.sc.stopped) return;
        this.onTurnEvent(ev);
      }
    }
    const windows = await vad.push(frame);
    for (const w of windows) {
      for (const ev of this.detector.push(w)) {
        if (this.o.sc.stopped) return;
        this.onTurnEvent(ev);
      }
    }
  }

  private onTurnEvent(ev: TurnEvent): void {
    const { sc, handler } = this.o;
    switch (ev.type) {
      case 'speech.start': {
        if (this.active && !handler.options.canInterrupt) {
          this.ignoring = true;
          return;
        }
        sc.send(vadStart(sc.now()));
        if (this.active) this.interrupt(this.active);
        this.audio.hold(ev.atMs - START_SLACK_MS - PRE_ROLL_MS);
        return;
      }
      case 'speech.discarded': {
        if (this.ignoring) this.ignoring = false;
        else this.audio.release();
        return;
      }
      case 'speech.end': {
        if (this.ignoring) {
          this.ignoring = false;
          return;
        }
        // The moment the VAD decided the turn is over: the start of endOfSpeechToFirstFrameMs.
        const decidedAt = sc.now();
        sc.send(vadEnd(decidedAt, ev.speechMs));
        const end = Math.min(ev.atMs, ev.startMs + ev.speechMs + TAIL_MS);
        const samples = this.audio.slice(ev.startMs - PRE_ROLL_MS, end);
        this.audio.release();
        if (this.active) {
          // Only reachable if speech began before the reply did; treat it like any speech start.
          if (!handler.options.canInterrupt) return;
          this.interrupt(this.active);
        }
        const turnAudio = audioFrame(samples, handler.options.inputSampleRate, 1);
        const turn = ++this.turns;
        sc.stats.turns++;
        this.startReply(turn, decidedAt, (ctx) => handler.fn(turnAudio, ctx));
        return;
      }
    }
  }

  /**
   * Barge-in: drop the reply's queued audio, abort its signal with how much was heard (also kept as
   * the handler's ctx.lastInterruption), and tell the client.
   */
  private interrupt(reply: ActiveReply): void {
    const { sc } = this.o;
    this.active = undefined;
    const playedMs = sc.clearPlayback();
    const interruption = { turn: reply.turn, playedMs, at: sc.now() };
    reply.interruption = interruption;
    sc.lastInterruption = interruption;
    reply.controller.abort(new InterruptedError(interruption));
    sc.stats.interruptions++;
    sc.send(interrupted(interruption.at, reply.turn, playedMs));
  }

  private startReply(
    turn: number,
    decidedAt: number | undefined,
    source: (ctx: HandlerContext) => AsyncIterable<ReplyChunk>,
  ): void {
    const { sc, handler, onMetrics } = this.o;
    const { controller, release } = sc.replyController();
    const reply: ActiveReply = { turn, controller };
    this.active = reply;
    const ctx = sc.handlerContext(controller.signal);
    const run = runReply(sc, turn, controller.signal, () => source(ctx))
      .then((outcome) => {
        if (decidedAt === undefined) return;
        let m: TurnMetricsEvent | undefined;
        if (outcome.firstFrameAt !== undefined) {
          m = turnMetrics({
            turn,
            endOfSpeechToFirstFrameMs: outcome.firstFrameAt - decidedAt,
            handlerFirstFrameMs: outcome.firstFrameAt - outcome.calledAt,
            silenceMs: handler.options.silenceMs,
          });
          sc.send(m);
          onMetrics?.(m);
        }
        // The turn's trace span (telemetry/spans.ts; nothing without OTEL_EXPORTER_OTLP_ENDPOINT),
        // with the metrics' own numbers; it ends at the barge-in, or now: the reply played out.
        const endAt = reply.interruption?.at ?? sc.now();
        recordPipelineTurn({ session: sc.session, turn, decidedAt, endAt, interruption: reply.interruption, playedMs: outcome.playedMs, metrics: m, failed: outcome.status === 'failed' });
      })
      .catch((err: unknown) => sc.log.error('pipeline: reply runner failed', { session: sc.session.id, turn, error: String(err) }))
      .finally(() => {
        release();
        if (this.active === reply) this.active = undefined;
        this.replies.delete(run);
        this.o.checkpoint();
      });
    this.replies.add(run);
  }
}
