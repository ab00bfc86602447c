/**
 * Tools the cascade's LLM may call (the same shape as the Realtime adapter's): a JSON Schema definition and a function run with the parsed
 * arguments. A tool's outcome always becomes a string for the model: its result (strings as
 * they are, anything else as JSON), or "Error: …" for an unknown tool, arguments that are not a
 * JSON object, a throw, or no answer within the timeout; cut at MAX_MESSAGE_CHARS.
 */
import type { ChannelMessage } from '@switchboard/protocol';
import type { SessionInfo } from '../../handlers/types.ts';
import type { ToolCall, ToolDefinition } from '../types.ts';
import { clip } from './history.ts';

export interface ToolContext {
  /** Aborted when the caller interrupts the reply (or the session ends). */
  readonly signal: AbortSignal;
  readonly session: SessionInfo;
  /** The handler's ctx.state. */
  readonly state: Record<string, unknown>;
  send(event: ChannelMessage): void;
}

/** A function the model may call: its name, what it does, its arguments as JSON Schema, and the code. */
export interface CascadeTool extends ToolDefinition {
  run(args: Record<string, unknown>, ctx: ToolContext): unknown;
}

/** What the LLM is told of a tool (without its code). */
export const toolDefinition = ({ name, description, parameters }: CascadeTool): ToolDefinition =>
  description === undefined ? { name, parameters } : { name, description, parameters };

export async function runTool(tools: readonly CascadeTool[], call: ToolCall, ctx: ToolContext, timeoutMs: number): Promise<string> {
  const tool = tools.find((t) => t.name === call.function.name);
  if (!tool) return `Error: there is no tool named ${JSON.stringify(call.function.name)}`;
  let args: unknown;
  try {
    args = JSON.parse(call.function.arguments || '{}');
  } catch {
    return 'Error: the arguments are not valid JSON';
  }
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return 'Error: the arguments must be a JSON object';
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    const result = await Promise.race([Promise.resolve().then(() => tool.run(args as Record<string, unknown>, ctx)), timeout]);
    return clip(typeof result === 'string' ? result : (JSON.stringify(result) ?? 'done'));
  } catch (err) {
    return clip(`Error: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    clearTimeout(timer);
  }
}
