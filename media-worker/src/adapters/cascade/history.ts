/**
 * The conversation the LLM sees, kept in `ctx.state` so it survives a worker takeover (the
 * pipeline checkpoints ctx.state at each reply end and interruption; it must stay JSON and under
 * 64 KiB with the handler's own state). Bounded by message count and by UTF-8 bytes of JSON
 * (default 50 messages, 32 KiB: half of the checkpoint's limit, leaving the rest to the user's
 * handler), oldest first; each message's text is cut at MAX_MESSAGE_CHARS. After trimming, the
 * history starts at a user message, so no tool result is left without its call.
 */
import type { ChatMessage, ToolCall } from '../types.ts';

export const MAX_MESSAGE_CHARS = 4000;

export interface HistoryLimits {
  maxMessages: number;
  maxBytes: number;
}
export const DEFAULT_HISTORY_LIMITS: HistoryLimits = Object.freeze({ maxMessages: 50, maxBytes: 32_768 });

/** What the cascade keeps in ctx.state[key]. */
export interface CascadeState {
  /** Replies so far (the greeting counts): the next reply's turn number. */
  turn: number;
  messages: ChatMessage[];
}

/** The cascade's state in ctx.state (restored after a takeover if well-formed, else fresh). */
export function loadState(state: Record<string, unknown>, key: string): CascadeState {
  const s = state[key] as Partial<CascadeState> | undefined;
  if (s && typeof s === 'object' && Number.isInteger(s.turn) && Array.isArray(s.messages) && s.messages.every(isMessage)) return s as CascadeState;
  const fresh: CascadeState = { turn: 0, messages: [] };
  state[key] = fresh;
  return fresh;
}

export function clip(text: string, max = MAX_MESSAGE_CHARS): string {
  return text.length > max ? text.slice(0, max) : text;
}

/** Drops the oldest messages until within `limits`, then (if it dropped any) up to the first user message. */
export function trimHistory(messages: ChatMessage[], limits: HistoryLimits): void {
  const bytes = messages.map((m) => Buffer.byteLength(JSON.stringify(m)));
  let total = bytes.reduce((a, b) => a + b, 0);
  let drop = 0;
  while (drop < messages.length && (messages.length - drop > limits.maxMessages || total > limits.maxBytes)) total -= bytes[drop++]!;
  // Only after dropping: a history may start with the greeting (an assistant message).
  if (drop > 0) while (drop < messages.length && messages[drop]!.role !== 'user') drop++;
  if (drop > 0) messages.splice(0, drop);
}

/** Every tool call of an assistant message gets a tool result (a reply cut while a tool ran left some without). */
export function closeToolCalls(messages: ChatMessage[], from: number, content: string): void {
  for (let i = from; i < messages.length; i++) {
    const m = messages[i]!;
    if (m.role !== 'assistant' || !m.tool_calls) continue;
    let j = i + 1;
    const answered = new Set<string>();
    while (j < messages.length && messages[j]!.role === 'tool') answered.add((messages[j++] as { tool_call_id: string }).tool_call_id);
    const missing = m.tool_calls.filter((c: ToolCall) => !answered.has(c.id)).map((c): ChatMessage => ({ role: 'tool', tool_call_id: c.id, content }));
    messages.splice(j, 0, ...missing);
  }
}

function isMessage(m: unknown): m is ChatMessage {
  if (typeof m !== 'object' || m === null) return false;
  const x = m as Record<string, unknown>;
  if (typeof x.content !== 'string') return false;
  if (x.role === 'tool') return typeof x.tool_call_id === 'string';
  return x.role === 'user' || x.role === 'system' || x.role === 'assistant';
}
