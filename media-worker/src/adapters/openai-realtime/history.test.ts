import { describe, expect, it } from 'vitest';
import { MAX_CHARS, MAX_LINES, STATE_KEY, appendLine, historyOf, replayEvents } from './history.ts';

describe('the Realtime conversation history in ctx.state', () => {
  it('lives in the state as JSON, keeps only well-formed lines, and is bounded in lines and characters', () => {
    const state: Record<string, unknown> = { [STATE_KEY]: { lines: [{ role: 'user', text: 'hi' }, { role: 'system', text: 'x' }, 'junk'] } };
    const h = historyOf(state);
    expect(h).toEqual([{ role: 'user', text: 'hi' }]);
    for (let i = 0; i < MAX_LINES + 5; i++) appendLine(h, i % 2 ? 'user' : 'assistant', `line ${i}`);
    expect(h).toHaveLength(MAX_LINES);
    expect(h.at(-1)!.text).toBe(`line ${MAX_LINES + 4}`);
    appendLine(h, 'user', 'x'.repeat(MAX_CHARS));
    expect(h.reduce((n, l) => n + l.text.length, 0)).toBeLessThanOrEqual(MAX_CHARS);
    expect(JSON.parse(JSON.stringify(state))).toEqual({ [STATE_KEY]: { lines: h } });
  });

  it('replays as user input_text and assistant output_text message items, in order, skipping empty lines', () => {
    expect(replayEvents([{ role: 'user', text: 'book a room' }, { role: 'assistant', text: '' }, { role: 'assistant', text: 'For when?' }])).toEqual([
      { type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'book a room' }] } },
      { type: 'conversation.item.create', item: { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'For when?' }] } },
    ]);
  });
});
