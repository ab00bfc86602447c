/**
 * Assembles streamed tool-call deltas into complete ToolCalls. OpenAI streams each call as
 * pieces keyed by `index`: the first carries `id`, `type` and `function.name`, the next ones
 * fragments of `function.arguments` (a JSON string) to concatenate. Bounded: a provider cannot
 * make us keep more than `maxCalls` calls of `maxArgumentChars` each.
 */
import type { ToolCall } from '../types.ts';

export interface ToolCallDelta {
  index?: number;
  id?: string | null;
  type?: string | null;
  function?: { name?: string | null; arguments?: string | null } | null;
}

export class ToolCallAssembler {
  readonly #calls = new Map<number, { id: string; name: string; arguments: string }>();
  readonly #maxCalls: number;
  readonly #maxArgumentChars: number;

  constructor(maxCalls = 16, maxArgumentChars = 65_536) {
    this.#maxCalls = maxCalls;
    this.#maxArgumentChars = maxArgumentChars;
  }

  add(delta: ToolCallDelta): void {
    const index = delta.index ?? 0;
    let call = this.#calls.get(index);
    if (!call) {
      if (this.#calls.size >= this.#maxCalls) throw new Error(`the model asked for more than ${this.#maxCalls} tool calls in one reply`);
      call = { id: '', name: '', arguments: '' };
      this.#calls.set(index, call);
    }
    if (delta.id) call.id = delta.id;
    if (delta.function?.name) call.name += delta.function.name;
    if (delta.function?.arguments) {
      call.arguments += delta.function.arguments;
      if (call.arguments.length > this.#maxArgumentChars) throw new Error(`tool call "${call.name}" has arguments longer than ${this.#maxArgumentChars} characters`);
    }
  }

  get size(): number {
    return this.#calls.size;
  }

  /** The complete calls in index order; a call without a name is an error (the stream was malformed). */
  finish(): ToolCall[] {
    return [...this.#calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, c]) => {
        if (!c.name) throw new Error(`tool call #${index} arrived without a function name`);
        return { id: c.id || `call_${index}`, type: 'function' as const, function: { name: c.name, arguments: c.arguments || '{}' } };
      });
  }
}
