/**
 * `openaiRealtime(options)`: a speech-to-speech handler over the OpenAI Realtime API (GA,
 * `gpt-realtime`), as a `stream` handler: the caller's audio at 24 kHz goes to the model, the
 * model's audio (24 kHz) comes back as frames, with `reply.start` / `reply.end` per assistant
 * turn, `interrupted` and `transcript` events, and `tool.call` events for function calls.
 *
 *   export default openaiRealtime({ voice: 'marin', instructions: 'You are a helpful agent.' });
 *
 * Options and the API key are checked here, when the worker loads the handler; each call then
 * opens its own WebSocket (realtime-session.ts). `reply.end` says a reply's audio was all handed
 * to playout; when the caller cuts in before hearing it all, an `interrupted` event and a
 * `transcript` with `interrupted: true` (what was heard) follow for that turn.
 *
 * A connection to OpenAI lost mid-call is reopened (connection-supervisor.ts): the client gets
 * `{type: "model.reconnecting", message, abandonedToolCalls?}` at the loss (the reply playing ends
 * with what had arrived; the tool calls named will not reach the model) and
 * `{type: "model.reconnected", attempts, gapMs, droppedInputFrames}` once the new session knows
 * the conversation; if it cannot be reopened the handler fails with the cause.
 */
import type { ChannelMessage } from '@switchboard/protocol';
import { stream, type StreamHandler } from '../../handlers/stream.ts';
import type { HandlerContext } from '../../handlers/types.ts';
import { resolveOptions, type OpenAIRealtimeOptions } from './options.ts';
import { RealtimeSession, type RealtimeStats } from './realtime-session.ts';
import { REALTIME_SAMPLE_RATE } from './wire.ts';

const sessions = new WeakMap<HandlerContext, RealtimeSession>();

export function openaiRealtime(options: OpenAIRealtimeOptions = {}): StreamHandler {
  const o = resolveOptions(options);
  return stream(
    (input, ctx) => {
      const session = new RealtimeSession(o, ctx);
      sessions.set(ctx, session);
      return session.run(input);
    },
    {
      inputSampleRate: REALTIME_SAMPLE_RATE,
      // 20 ms appends: the server's VAD sees speech start within a frame of the caller's audio.
      inputFrameMs: 20,
      onEvent: (event: ChannelMessage, ctx: HandlerContext) => {
        if (o.turnDetection !== 'none') return;
        if (event.type === 'turn.end') sessions.get(ctx)?.commit();
        else if (event.type === 'turn.start') sessions.get(ctx)?.interrupt();
      },
    },
  );
}

/**
 * Push to talk from code (turnDetection 'none'): commits the caller's audio so far and asks the
 * model to reply. False when `ctx` has no open Realtime session.
 */
export function commitTurn(ctx: HandlerContext): boolean {
  return sessions.get(ctx)?.commit() ?? false;
}

/** The session's buffering and drop counters, for metrics and tests (undefined for a ctx without a session). */
export function openaiRealtimeStats(ctx: HandlerContext): RealtimeStats | undefined {
  return sessions.get(ctx)?.stats;
}
