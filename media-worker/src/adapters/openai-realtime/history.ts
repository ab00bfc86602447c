/**
 * The conversation as text, kept in `ctx.state` (checkpointed at each reply end and
 * interruption): OpenAI's copy of the conversation lives in the Realtime session, which dies with
 * the worker's WebSocket, so a call taken over by another worker (or resumed) would otherwise
 * start with a model that remembers nothing. On a takeover the lines are replayed into the new
 * session as conversation items before the caller speaks again.
 *
 * Bounded to the last MAX_LINES lines and MAX_CHARS characters, well inside the 64 KiB the
 * platform checkpoints (JSON adds ~30 bytes per line).
 */
import type { ClientEvent } from './wire.ts';

export const STATE_KEY = 'openaiRealtime';
export const MAX_LINES = 40;
export const MAX_CHARS = 24_000;

export interface Line {
  role: 'user' | 'assistant';
  text: string;
}

/** The history in `state` (created when absent); lines of any other shape are dropped. */
export function historyOf(state: Record<string, unknown>): Line[] {
  const slot = state[STATE_KEY];
  const lines = typeof slot === 'object' && slot !== null && Array.isArray((slot as { lines?: unknown }).lines) ? (slot as { lines: unknown[] }).lines : [];
  const valid = lines.filter(
    (l): l is Line => typeof l === 'object' && l !== null && ((l as Line).role === 'user' || (l as Line).role === 'assistant') && typeof (l as Line).text === 'string',
  );
  state[STATE_KEY] = { lines: valid };
  return valid;
}

/** Appends a line, dropping the oldest past the bounds; returns it (the caller may cut its text later). */
export function appendLine(history: Line[], role: Line['role'], text: string): Line {
  const line = { role, text: text.slice(0, MAX_CHARS) };
  history.push(line);
  let chars = history.reduce((n, l) => n + l.text.length, 0);
  while (history.length > MAX_LINES || (chars > MAX_CHARS && history.length > 1)) chars -= history.shift()!.text.length;
  return line;
}

/** The items that give a fresh Realtime session the conversation so far. */
export function replayEvents(history: readonly Line[]): ClientEvent[] {
  return history
    .filter((l) => l.text.trim())
    .map((l) => ({
      type: 'conversation.item.create',
      item:
        l.role === 'user'
          ? { type: 'message', role: 'user', content: [{ type: 'input_text', text: l.text }] }
          : { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: l.text }] },
    }));
}

/**
 * The session's side of the history: the caller's lines, and one line per assistant reply (a tool
 * chain's responses speak as one reply), which a barge-in cuts to what the caller heard.
 */
export class ConversationLog<R extends object> {
  readonly #lines: Line[];
  readonly #lineOf = new WeakMap<R, Line>();

  constructor(state: Record<string, unknown>) {
    this.#lines = historyOf(state);
  }

  user(text: string): void {
    appendLine(this.#lines, 'user', text);
  }

  /** More of `reply`'s words (an item's transcript): its line grows, or starts. */
  assistant(reply: R, text: string, maxChars: number): void {
    const line = this.#lineOf.get(reply);
    if (line) line.text = `${line.text} ${text}`.slice(0, maxChars);
    else this.#lineOf.set(reply, appendLine(this.#lines, 'assistant', text));
  }

  /** `reply` was cut: its line keeps what was heard (as the model's truncated item does). */
  heard(reply: R, text: string): void {
    const line = this.#lineOf.get(reply);
    if (line) line.text = text;
    else if (text) this.#lineOf.set(reply, appendLine(this.#lines, 'assistant', text));
  }

  replay(): ClientEvent[] {
    return replayEvents(this.#lines);
  }
}
