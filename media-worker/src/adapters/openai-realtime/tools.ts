/**
 * Running the model's function calls: parse the arguments, run the tool with a timeout, and make
 * the `function_call_output` text the model gets back (a JSON result, or `{"error": ...}` the
 * model can read and recover from: unknown tool, bad arguments JSON, a throw, a timeout).
 */
import type { HandlerContext } from '../../handlers/types.ts';
import type { RealtimeTool } from './options.ts';

/** tool.call events carry the arguments when they are this short (the events channel takes 16 KiB). */
const MAX_EVENT_ARGS_CHARS = 4096;

/** Largest output sent back (characters): the model's context is the limit that matters, and a runaway tool must not fill it. */
export const MAX_TOOL_OUTPUT_CHARS = 32_768;

export interface ToolCall {
  callId: string;
  name: string;
  arguments: string;
}

export interface ToolResult {
  output: string;
  /** Set when the call failed (the output then carries it for the model too). */
  error?: string;
}

export async function runToolCall(tools: readonly RealtimeTool[], call: ToolCall, ctx: HandlerContext, timeoutMs: number): Promise<ToolResult> {
  const failed = (error: string): ToolResult => ({ output: JSON.stringify({ error }), error });
  const tool = tools.find((t) => t.name === call.name);
  if (!tool) return failed(`no tool named "${call.name}"`);
  let args: unknown;
  try {
    args = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
  } catch {
    return failed(`arguments for "${call.name}" are not valid JSON`);
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const result = await Promise.race([Promise.resolve().then(() => tool.run(args, ctx)), timeout]);
    const output = result === undefined ? '{}' : typeof result === 'string' ? result : JSON.stringify(result);
    if (typeof output !== 'string') return failed(`tool "${call.name}" returned a value that is not JSON`);
    if (output.length > MAX_TOOL_OUTPUT_CHARS) return failed(`tool "${call.name}" returned ${output.length} characters (the limit is ${MAX_TOOL_OUTPUT_CHARS})`);
    return { output };
  } catch (err) {
    return failed(`tool "${call.name}" failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs one response's calls in parallel: the client hears of each (`tool.call`), and of each
 * failure (`error`). Returns the outputs, in the calls' order.
 */
export async function answerToolCalls(calls: readonly ToolCall[], tools: readonly RealtimeTool[], ctx: HandlerContext, timeoutMs: number): Promise<string[]> {
  const results = await Promise.all(
    calls.map((call) => {
      const args = call.arguments.length <= MAX_EVENT_ARGS_CHARS ? call.arguments : undefined;
      ctx.send({ type: 'tool.call', name: call.name, callId: call.callId, ...(args !== undefined && { arguments: args }) });
      return runToolCall(tools, call, ctx, timeoutMs);
    }),
  );
  for (const r of results) if (r.error) ctx.send({ type: 'error', message: `tool call failed: ${r.error}`.slice(0, 1000) });
  return results.map((r) => r.output);
}

/** Function calls run per response; more are not run (the client is told). */
export const MAX_CALLS_PER_RESPONSE = 16;

/** The function calls of each response in progress, run once the response is done, and those running. */
export class PendingCalls {
  readonly #byResponse = new Map<string, ToolCall[]>();
  /** Ids of the calls being run (their output not yet sent). */
  readonly #running = new Set<string>();

  /** False when the response already has MAX_CALLS_PER_RESPONSE calls (this one is not kept). */
  add(responseId: string, call: ToolCall): boolean {
    const calls = this.#byResponse.get(responseId) ?? [];
    if (calls.length >= MAX_CALLS_PER_RESPONSE) return false;
    calls.push(call);
    this.#byResponse.set(responseId, calls);
    return true;
  }

  take(responseId: string): ToolCall[] {
    const calls = this.#byResponse.get(responseId) ?? [];
    this.#byResponse.delete(responseId);
    return calls;
  }

  started(calls: readonly ToolCall[]): void {
    for (const c of calls) this.#running.add(c.callId);
  }

  finished(calls: readonly ToolCall[]): void {
    for (const c of calls) this.#running.delete(c.callId);
  }

  /**
   * The model session that made the calls was lost: the calls not yet run are forgotten (the
   * client never heard of them); returns the ids of those running, whose output has nowhere to go.
   */
  abandon(): string[] {
    const running = [...this.#running];
    this.#byResponse.clear();
    this.#running.clear();
    return running;
  }
}
