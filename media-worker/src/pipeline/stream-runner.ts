/**
 * The raw duplex loop of one session (`stream(fn)` handlers): caller audio is converted to the
 * handler's rate, cut into `inputFrameMs` frames and offered to the handler through a bounded
 * queue (oldest frames dropped and counted when the handler falls behind); whatever the handler
 * yields is forwarded like a reply (audio to the transport, events to the client), without turn
 * events. The handler's output ending (or failing) ends the session: a stream handler has no
 * next turn to recover into.
 */
import type { AudioFrame } from '../audio/frame.ts';
import { Reframer } from '../audio/reframer.ts';
import type { ChannelMessage } from '@switchboard/protocol';
import type { StreamHandler } from '../handlers/stream.ts';
import type { HandlerContext } from '../handlers/types.ts';
import { errorEvent } from './events.ts';
import { DropOldestQueue } from './frame-queue.ts';
import { InputConverter } from './input-converter.ts';
import { runReply } from './reply-runner.ts';
import { SerialQueue } from './serial-queue.ts';
import type { SessionContext } from './session-context.ts';

/** Input the handler may lag behind by before the oldest frames are dropped. */
export const INPUT_QUEUE_MS = 1000;
/** Caller frames allowed to wait for conversion (a few: conversion is fast; only the first waits for the wasm load). */
const MAX_CONVERT_BACKLOG = 100;

export interface StreamRunnerOptions {
  sc: SessionContext;
  handler: StreamHandler;
  /** The handler's output ended: 'handler-ended', 'handler-failed', or the abort. */
  onEnd: (reason: string) => void;
  /** A reply of the handler ended: checkpoints `ctx.state` if it changed. */
  checkpoint: () => void;
}

export class StreamRunner {
  private readonly o: StreamRunnerOptions;
  private readonly converter: InputConverter;
  private readonly reframer: Reframer;
  private readonly input: DropOldestQueue<AudioFrame>;
  private readonly convertQueue: SerialQueue;
  private convertDrops = 0;
  private run: Promise<void> | undefined;
  private ctx: HandlerContext | undefined;

  constructor(o: StreamRunnerOptions) {
    this.o = o;
    const { inputSampleRate, inputFrameMs } = o.handler.options;
    this.converter = new InputConverter(inputSampleRate);
    this.reframer = new Reframer(inputSampleRate, 1, inputFrameMs);
    this.input = new DropOldestQueue(Math.max(1, Math.round(INPUT_QUEUE_MS / inputFrameMs)));
    this.convertQueue = new SerialQueue(MAX_CONVERT_BACKLOG, (err) => this.conversionFailed(err));
  }

  /** Frames dropped so far (handler behind, or conversion behind). */
  get dropped(): number {
    return this.input.dropped + this.convertDrops;
  }

  start(): void {
    const { sc, handler, onEnd } = this.o;
    const { controller, release } = sc.replyController();
    const ctx = sc.handlerContext(controller.signal);
    // A stream has no turns of its own: its replies end where it says so (it yields `reply.end`
    // or `interrupted`) or where it cuts its playback; `ctx.state` is checkpointed there.
    const clearPlayback = ctx.clearPlayback;
    ctx.clearPlayback = () => {
      const played = clearPlayback();
      this.o.checkpoint();
      return played;
    };
    this.ctx = ctx;
    const onYield = (event: ChannelMessage): void => {
      // The handler's `reply.end` closes its audio segment: audio after it is the next reply's
      // (what a later clearPlayback reports as played counts from there).
      if (event.type === 'reply.end') void sc.finishPlayback();
      if (event.type === 'reply.end' || event.type === 'interrupted') this.o.checkpoint();
    };
    this.run = runReply(sc, undefined, controller.signal, () => handler.fn(this.input, ctx), onYield)
      .then((outcome) => {
        if (outcome.status !== 'aborted') onEnd(outcome.status === 'failed' ? 'handler-failed' : 'handler-ended');
      })
      .finally(() => {
        release();
        this.input.close();
        this.syncStats();
      });
  }

  /** A client event (data-channel message, phone keypress): given to the handler's onEvent. */
  onEvent(event: ChannelMessage): void {
    const { sc, handler } = this.o;
    if (!handler.options.onEvent || !this.ctx || sc.stopped) return;
    try {
      handler.options.onEvent(event, this.ctx);
    } catch (err) {
      sc.stats.handlerErrors++;
      sc.log.error('handler onEvent failed', { session: sc.session.id, event: event.type, error: String(err) });
      sc.send(errorEvent(`handler onEvent failed: ${err instanceof Error ? err.message : String(err)}`));
    }
  }

  onAudio(frame: AudioFrame): void {
    if (this.o.sc.stopped) return;
    // In place when nothing queued is ahead of this frame and no wasm must load: a call's frames
    // then cost no promise each; order holds because queued frames always go first.
    if (this.convertQueue.size === 0) {
      let converted: AudioFrame | undefined;
      try {
        converted = this.converter.convertNow(frame);
      } catch (err) {
        this.conversionFailed(err);
        return;
      }
      if (converted) {
        this.offer(converted);
        return;
      }
    }
    const queued = this.convertQueue.push(async () => {
      const converted = await this.converter.convert(frame);
      if (!this.o.sc.stopped) this.offer(converted);
    });
    if (!queued) {
      this.convertDrops++;
      this.syncStats();
    }
  }

  private conversionFailed(err: unknown): void {
    this.o.sc.log.error('pipeline: caller audio conversion failed', { session: this.o.sc.session.id, error: String(err) });
  }

  private offer(converted: AudioFrame): void {
    for (const f of this.reframer.push(converted)) this.input.push(f);
    this.syncStats();
  }

  /** After the session's lifetime signal aborted: ends the input, waits for the handler's run, frees the resampler. */
  async shutdown(): Promise<void> {
    this.input.close();
    await this.convertQueue.idle();
    await this.run;
    this.converter.close();
    this.syncStats();
  }

  private syncStats(): void {
    this.o.sc.stats.droppedInputFrames = this.dropped;
  }
}
