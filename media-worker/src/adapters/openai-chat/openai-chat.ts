/**
 * `openaiChat(options)`: any OpenAI-compatible chat completions endpoint, streamed, as an
 * LlmService (OpenAI, Groq, Together, vLLM, Ollama … via `baseURL`). Uses the `openai` SDK for
 * the HTTP and SSE parsing; adds what a live call needs on top:
 *
 * - no retries by default (`maxRetries: 0`): a 429 retried with backoff is seconds of dead air;
 *   the cascade reports the error and the caller can speak again;
 * - a first-chunk and an idle timeout (the SDK's `timeout` only covers the response headers);
 * - a cap on the response's bytes (the SDK buffers a whole SSE event before parsing it);
 * - HTTP errors as one Error naming the status and the provider's own message.
 */
import OpenAI from 'openai';
import type { LlmChunk, LlmService, ToolDefinition } from '../types.ts';
import { requireEnv } from '../types.ts';
import { ToolCallAssembler } from './tool-calls.ts';

export interface OpenAiChatOptions {
  /** Default: env OPENAI_MODEL, else "gpt-4o-mini". */
  model?: string;
  /** Default: env OPENAI_API_KEY (required unless given). */
  apiKey?: string;
  /** Default: env OPENAI_BASE_URL, else OpenAI's. */
  baseURL?: string;
  temperature?: number;
  /** Sent as `max_tokens` (the field every OpenAI-compatible server knows), or as `maxTokensField`. */
  maxTokens?: number;
  maxTokensField?: 'max_tokens' | 'max_completion_tokens';
  /** Request to first streamed chunk (ms). Default 15000. */
  firstChunkTimeoutMs?: number;
  /** Longest gap between chunks (ms). Default 15000. */
  idleTimeoutMs?: number;
  /** Default 0 (see above). */
  maxRetries?: number;
  /** Response size cap (bytes). Default 4 MiB. */
  maxResponseBytes?: number;
  /** Text cap per completion (characters). Default 32768. */
  maxTextChars?: number;
}

export function openaiChat(options: OpenAiChatOptions = {}, env: NodeJS.ProcessEnv = process.env): LlmService {
  const apiKey = options.apiKey?.trim() || requireEnv('OPENAI_API_KEY', 'openaiChat', env);
  const baseURL = options.baseURL ?? (env.OPENAI_BASE_URL?.trim() || undefined);
  const model = options.model ?? (env.OPENAI_MODEL?.trim() || 'gpt-4o-mini');
  const firstChunkTimeoutMs = options.firstChunkTimeoutMs ?? 15_000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 15_000;
  const maxTextChars = options.maxTextChars ?? 32_768;
  const maxResponseBytes = options.maxResponseBytes ?? 4 << 20;
  if (options.temperature !== undefined && !(options.temperature >= 0 && options.temperature <= 2)) {
    throw new RangeError(`openaiChat: temperature must be in 0..2, got ${options.temperature}`);
  }
  if (options.maxTokens !== undefined && !(Number.isInteger(options.maxTokens) && options.maxTokens > 0)) {
    throw new RangeError(`openaiChat: maxTokens must be a positive integer, got ${options.maxTokens}`);
  }
  const client = new OpenAI({
    apiKey,
    baseURL,
    maxRetries: options.maxRetries ?? 0,
    timeout: firstChunkTimeoutMs,
    fetch: limitedFetch(maxResponseBytes),
  });
  const where = `openai-chat (${model}${baseURL ? ` at ${new URL(baseURL).host}` : ''})`;

  return {
    name: 'openai-chat',
    model,
    async *complete(request, signal): AsyncGenerator<LlmChunk> {
      signal.throwIfAborted();
      const ac = new AbortController();
      const onAbort = (): void => ac.abort(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      let timer = setTimeout(() => ac.abort(new Error(`${where}: no response within ${firstChunkTimeoutMs} ms`)), firstChunkTimeoutMs);
      const rearm = (): void => {
        clearTimeout(timer);
        timer = setTimeout(() => ac.abort(new Error(`${where}: the stream stalled for ${idleTimeoutMs} ms`)), idleTimeoutMs);
      };
      const body: Record<string, unknown> = { model, messages: request.messages, stream: true };
      if (request.tools && request.tools.length > 0) body.tools = request.tools.map(toolParam);
      if (options.temperature !== undefined) body.temperature = options.temperature;
      if (options.maxTokens !== undefined) body[options.maxTokensField ?? 'max_tokens'] = options.maxTokens;
      const calls = new ToolCallAssembler();
      let finished = false;
      let chars = 0;
      try {
        const stream = await client.chat.completions.create(body as unknown as OpenAI.ChatCompletionCreateParamsStreaming, { signal: ac.signal });
        for await (const chunk of stream) {
          rearm();
          const choice = chunk.choices[0];
          if (!choice) continue;
          const text = choice.delta?.content;
          if (text) {
            chars += text.length;
            if (chars > maxTextChars) throw new Error(`${where}: the reply is longer than ${maxTextChars} characters`);
            yield { type: 'text', text };
          }
          for (const d of choice.delta?.tool_calls ?? []) calls.add(d);
          if (choice.finish_reason) finished = true;
        }
        // The SDK ends quietly when its request was aborted: the abort reason is the outcome.
        if (ac.signal.aborted) throw ac.signal.reason;
        if (!finished) throw new Error(`${where}: the stream ended before the completion finished (no finish_reason)`);
        for (const call of calls.finish()) yield { type: 'tool-call', call };
      } catch (err) {
        if (ac.signal.aborted) throw ac.signal.reason;
        throw describeError(where, err);
      } finally {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        ac.abort(); // a consumer that stopped early cancels the request
      }
    },
  };
}

function toolParam(t: ToolDefinition): Record<string, unknown> {
  return { type: 'function', function: { name: t.name, ...(t.description ? { description: t.description } : {}), parameters: t.parameters } };
}

function describeError(where: string, err: unknown): Error {
  if (err instanceof OpenAI.APIConnectionError) return new Error(`${where}: cannot reach the server: ${err.cause instanceof Error ? err.cause.message : err.message}`, { cause: err });
  if (err instanceof OpenAI.APIError) {
    const e = err.error as { message?: unknown } | undefined;
    const message = typeof e?.message === 'string' ? e.message : err.message;
    return new Error(err.status ? `${where}: HTTP ${err.status}: ${message}` : `${where}: ${message}`, { cause: err });
  }
  if (err instanceof Error) return new Error(`${where}: ${err.message}`, { cause: err });
  return new Error(`${where}: ${String(err)}`);
}

/** fetch whose response body errors once it exceeds `max` bytes. */
function limitedFetch(max: number): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    if (!res.body) return res;
    let n = 0;
    const body = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          n += chunk.byteLength;
          if (n > max) controller.error(new Error(`the response is larger than ${max} bytes`));
          else controller.enqueue(chunk);
        },
      }),
    );
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}
