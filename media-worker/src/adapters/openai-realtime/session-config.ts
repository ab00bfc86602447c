/**
 * The adapter's client events that carry configuration: the `session.update` sent first on
 * every connection, and the greeting's `response.create`.
 */
import type { RealtimeAudioInputTurnDetection, ResponseCreateEvent, SessionUpdateEvent } from 'openai/resources/realtime/realtime';
import type { ResolvedOptions } from './options.ts';
import { REALTIME_SAMPLE_RATE } from './wire.ts';

const PCM_24K = { type: 'audio/pcm', rate: REALTIME_SAMPLE_RATE } as const;

export function sessionUpdate(o: ResolvedOptions): SessionUpdateEvent {
  return {
    type: 'session.update',
    session: {
      type: 'realtime',
      model: o.model,
      output_modalities: ['audio'],
      ...(o.instructions !== undefined && { instructions: o.instructions }),
      audio: {
        input: {
          format: PCM_24K,
          // The caller's transcript (the model hears audio; this is a separate transcription model's text).
          transcription: o.transcriptionModel === false ? undefined : { model: o.transcriptionModel },
          turn_detection: turnDetection(o),
        },
        output: { format: PCM_24K, ...(o.voice !== undefined && { voice: o.voice }) },
      },
      ...(o.tools.length > 0 && {
        tools: o.tools.map((t) => ({ type: 'function' as const, name: t.name, description: t.description, parameters: t.parameters })),
        tool_choice: 'auto' as const,
      }),
    },
  };
}

/**
 * The server's VAD both cancels the response it interrupts (`interrupt_response`) and answers at
 * the end of the caller's speech (`create_response`); the adapter still truncates the
 * interrupted item to what the caller heard, which the server cannot know.
 */
function turnDetection(o: ResolvedOptions): RealtimeAudioInputTurnDetection | null {
  if (o.turnDetection === 'none') return null;
  return { type: o.turnDetection, create_response: true, interrupt_response: true };
}

/** The greeting: a reply before the caller spoke; a string is added to the instructions for it. */
export function greetingResponse(o: ResolvedOptions): ResponseCreateEvent | undefined {
  if (o.greeting === false) return undefined;
  if (o.greeting === true) return { type: 'response.create' };
  const instructions = o.instructions ? `${o.instructions}\n\n${o.greeting}` : o.greeting;
  return { type: 'response.create', response: { instructions } };
}
