/**
 * The contracts between the cascade (`cascade({ stt, llm, tts })`) and the model services behind
 * it. Each provider adapter implements one of these over its own wire protocol; the cascade
 * knows nothing of any provider. Audio is PCM16 mono at the rate the service declares; the
 * cascade resamples explicitly. Times are epoch milliseconds (`Date.now()`), durations ms.
 */

/** Streaming speech to text: one live connection per session, fed the caller's audio as it comes. */
export interface SttService {
  /** Name for errors and metrics, e.g. "deepgram". */
  readonly name: string;
  /** The rate `SttSession.send` expects. */
  readonly sampleRate: number;
  /** Opens the live connection; rejects with a clear error if the provider refuses it. */
  connect(signal: AbortSignal): Promise<SttSession>;
}

export interface SttSession {
  /** Caller audio at the service's rate, any length. Never blocks; drops (and counts) when the socket is backed up. */
  send(samples: Int16Array): void;
  /** What the recognizer reports, in order. Ends when the session closes; throws if the connection failed mid-stream. */
  readonly events: AsyncIterable<SttEvent>;
  /** Closes the connection gracefully (flushes what was sent). */
  close(): Promise<void>;
}

export type SttEvent =
  /** The caller started speaking (the provider's VAD): the cue for barge-in. */
  | { readonly type: 'speech-started'; readonly at: number }
  /** A provisional transcript of the words being spoken. */
  | { readonly type: 'interim'; readonly text: string; readonly at: number }
  /**
   * A final transcript of a stretch of speech. `endOfTurn` when the provider judged the caller
   * done speaking (Deepgram `speech_final` or `UtteranceEnd`): the cue to reply.
   */
  | {
      readonly type: 'final';
      readonly text: string;
      readonly endOfTurn: boolean;
      readonly at: number;
      /**
       * Where the recognized speech ends, in ms of the audio sent on this session (the provider's
       * own timeline: Deepgram's last word `end`), when the provider says.
       */
      readonly audioEndMs?: number;
    };

/** A chat message in OpenAI's shape (the lingua franca of chat-completion APIs). */
export type ChatMessage =
  | { readonly role: 'system' | 'user'; readonly content: string }
  | { readonly role: 'assistant'; readonly content: string; readonly tool_calls?: readonly ToolCall[] }
  | { readonly role: 'tool'; readonly content: string; readonly tool_call_id: string };

export interface ToolCall {
  readonly id: string;
  readonly type: 'function';
  readonly function: { readonly name: string; readonly arguments: string };
}

/** A function the model may call, as JSON Schema. */
export interface ToolDefinition {
  readonly name: string;
  readonly description?: string;
  readonly parameters: Record<string, unknown>;
}

/** Streaming chat completion. */
export interface LlmService {
  readonly name: string;
  /** The model asked for, when the service names one (traces' gen_ai.request.model). */
  readonly model?: string;
  /**
   * Streams one completion: text deltas as they arrive, then (if the model asked for them)
   * complete tool calls. Aborting `signal` cancels the request at once.
   */
  complete(request: { messages: readonly ChatMessage[]; tools?: readonly ToolDefinition[] }, signal: AbortSignal): AsyncIterable<LlmChunk>;
}

export type LlmChunk = { readonly type: 'text'; readonly text: string } | { readonly type: 'tool-call'; readonly call: ToolCall };

/** Streaming text to speech. */
export interface TtsService {
  readonly name: string;
  /** The rate of the audio it returns. */
  readonly sampleRate: number;
  /**
   * One spoken reply: text goes in as it is ready (whole sentences), audio comes out as it is
   * synthesized. Aborting `signal` stops synthesis and ends `audio`.
   */
  open(signal: AbortSignal): TtsStream;
}

export interface TtsStream {
  /** More text of the reply (the cascade pushes whole sentences, each ending with a space or newline). */
  push(text: string): void;
  /** No more text: `audio` ends once the rest is synthesized. */
  end(): void;
  /** Audio in order; throws if the provider failed mid-reply. */
  readonly audio: AsyncIterable<TtsChunk>;
}

export interface TtsChunk {
  /** PCM16 mono at the service's `sampleRate`. */
  readonly samples: Int16Array;
  /**
   * Words and where they fall, in ms from the start of this reply's audio, when the provider
   * reports them (ElevenLabs alignment, Cartesia word timestamps): how the cascade cuts the
   * assistant's message to what the caller heard on barge-in.
   */
  readonly words?: readonly WordTiming[];
}

export interface WordTiming {
  readonly word: string;
  readonly startMs: number;
  readonly endMs: number;
}

/** A missing or unusable setting (an API key, a URL), named so the operator knows what to set. */
export class AdapterConfigError extends Error {
  override name = 'AdapterConfigError';
}

/** Reads a required environment variable, or throws an AdapterConfigError naming it and its use. */
export function requireEnv(name: string, usedFor: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name]?.trim();
  if (!value) throw new AdapterConfigError(`${name} is not set: ${usedFor} needs it (set it in the worker's environment)`);
  return value;
}
