/**
 * `runTurn(handler, audio)`: one user turn through the worker's real pipeline, in-process, for a
 * handler's own tests. The caller audio is fed as a call would send it (20 ms frames, paced at
 * `speed` times real time, then silence until the turn is answered); the real Silero VAD ends the
 * turn, the handler replies, and the result holds the reply audio and every event the client got.
 *
 *   const { audio, events } = await runTurn(handler, await speech('Hello there'));
 */
import type { ChannelMessage } from '@switchboard/protocol';
import { setTimeout as sleep } from 'node:timers/promises';
import { audioFrame, isAudioFrame, type AudioFrame } from '../audio/frame.ts';
import { concatFrames, silence } from '../audio/pcm.ts';
import { resampleOnce } from '../audio/resampler.ts';
import type { Handler, ReplyChunk, SessionInfo } from '../handlers/types.ts';
import type { PipelineLogger } from '../pipeline/session-context.ts';
import { runPipeline } from '../pipeline/session-pipeline.ts';
import { createVadFactory } from '../vad/factory.ts';
import { RecordingTransport } from './recording-transport.ts';

export interface RunTurnOptions {
  /** Gives up (rejects) after this long in all. Default 30000 ms. */
  timeoutMs?: number;
  /** How fast the audio is fed, times real time. Default 8. */
  speed?: number;
  /** What `ctx.session` says (id 'test-session', kind 'webrtc' unless given). */
  session?: Partial<SessionInfo>;
  /** The handler's `ctx.state` at the start (it is changed in place by the turn). */
  state?: Record<string, unknown>;
  /** Client events sent before the audio (e.g. an `input` the handler reads from `ctx.inputs`). */
  clientEvents?: ChannelMessage[];
  /** Play the handler's greeting first (its audio and events then lead the result). Default false. */
  greeting?: boolean;
}

export interface TurnResult {
  /** The reply's audio, frames joined (at the rate of its first frame); empty when it had none. */
  audio: AudioFrame;
  /** The reply's frames as the handler yielded them. */
  frames: AudioFrame[];
  /** Every event the client got, in order: the handler's own and the pipeline's (vad.start, reply.end, metrics, error). */
  events: ChannelMessage[];
  /** The handler's `ctx.state` after the turn. */
  state: Record<string, unknown>;
  /** What the pipeline logged (a handler failure's stack, VAD trouble). */
  logs: string[];
}

const FRAME_MS = 20;

export async function runTurn(handler: Handler, input: AudioFrame, options: RunTurnOptions = {}): Promise<TurnResult> {
  if (handler?.kind !== 'reply-on-pause') {
    throw new TypeError('runTurn: expected a replyOnPause(...) handler (stream handlers have no turns)');
  }
  if (!isAudioFrame(input)) throw new TypeError('runTurn: input must be an AudioFrame (e.g. from speech(text) or readWav)');
  const timeoutMs = options.timeoutMs ?? 30_000;
  const speed = options.speed ?? 8;
  if (!(speed > 0)) throw new RangeError(`runTurn: speed must be above 0, not ${speed}`);

  // The handler's own turn function, watched: the turn is over once it has returned (or thrown).
  let settled = false;
  let yieldedAudio = false;
  const fn = handler.fn;
  const watched: Handler = {
    kind: 'reply-on-pause',
    options: { ...handler.options, greeting: options.greeting ? handler.options.greeting : undefined },
    fn: async function* (turn, ctx): AsyncGenerator<ReplyChunk> {
      try {
        for await (const chunk of fn(turn, ctx)) {
          if (isAudioFrame(chunk) && chunk.samples.length > 0) yieldedAudio = true;
          yield chunk;
        }
      } finally {
        settled = true;
      }
    },
  };

  const transport = new RecordingTransport();
  const logs: string[] = [];
  const log: PipelineLogger = {
    warn: (m, f) => logs.push(`warn: ${m}${f ? ` ${JSON.stringify(f)}` : ''}`),
    error: (m, f) => logs.push(`error: ${m}${f ? ` ${JSON.stringify(f)}` : ''}`),
  };
  const state = options.state ?? {};
  const pipeline = runPipeline({
    handler: watched,
    transport,
    session: { id: 'test-session', kind: 'webrtc', ...options.session },
    vad: await createVadFactory(),
    log,
    state,
  });

  const deadline = performance.now() + timeoutMs;
  const turnDone = (): boolean => {
    if (!settled) return false;
    if (!yieldedAudio) return true;
    return transport.events.some((e) => e.type === 'reply.end' || e.type === 'error' || e.type === 'interrupted');
  };
  try {
    for (const e of options.clientEvents ?? []) transport.pushEvent(e);
    const start = performance.now();
    let fedMs = 0;
    const feed = async (frame: AudioFrame): Promise<void> => {
      transport.pushAudio(frame);
      fedMs += FRAME_MS;
      const ahead = fedMs / speed - (performance.now() - start);
      if (ahead >= 1) await sleep(ahead);
      else await new Promise<void>((resolve) => setImmediate(resolve));
    };
    const step = Math.round((input.sampleRate * FRAME_MS) / 1000) * input.channels;
    for (let i = 0; i < input.samples.length && pipeline.reason === undefined; i += step) {
      if (performance.now() > deadline) break;
      await feed(audioFrame(input.samples.slice(i, Math.min(i + step, input.samples.length)), input.sampleRate, input.channels));
    }
    // A caller who stopped talking: silence until the turn is answered.
    const quiet = silence(input.sampleRate, input.channels, FRAME_MS);
    while (!turnDone() && pipeline.reason === undefined && performance.now() < deadline) await feed(quiet);
    if (!turnDone()) {
      const types = transport.events.map((e) => e.type).join(', ') || 'none';
      const why = transport.events.some((e) => e.type === 'vad.end')
        ? 'the handler had not finished its reply'
        : 'no turn was detected (the VAD heard no speech in the input followed by a pause)';
      throw new Error(`runTurn: ${why} after ${timeoutMs} ms; events: ${types}${logs.length ? `; logs: ${logs.join(' | ')}` : ''}`);
    }
    // The turn's metrics event follows reply.end within the same macrotask.
    await new Promise<void>((resolve) => setImmediate(resolve));
  } finally {
    pipeline.stop('runTurn done');
    await pipeline.done;
  }

  const frames = [...transport.frames];
  return { audio: await joinFrames(frames, handler.options.inputSampleRate), frames, events: [...transport.events], state, logs };
}

/** The frames back to back, resampled to the first frame's rate where they differ. */
async function joinFrames(frames: readonly AudioFrame[], emptyRate: number): Promise<AudioFrame> {
  const first = frames[0];
  if (!first) return audioFrame(new Int16Array(0), emptyRate);
  const same = await Promise.all(frames.map((f) => (f.channels === first.channels ? resampleOnce(f, first.sampleRate) : Promise.reject(new RangeError('runTurn: reply frames mix channel counts')))));
  return concatFrames(same);
}
