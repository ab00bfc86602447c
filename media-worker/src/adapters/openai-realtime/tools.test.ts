import { describe, expect, it } from 'vitest';
import type { HandlerContext } from '../../handlers/types.ts';
import type { RealtimeTool } from './options.ts';
import { MAX_TOOL_OUTPUT_CHARS, runToolCall } from './tools.ts';

const ctx = {} as HandlerContext;
const tool = (run: RealtimeTool['run']): RealtimeTool[] => [{ name: 't', description: '', parameters: {}, run }];
const call = (args: string) => ({ callId: 'c', name: 't', arguments: args });

describe('runToolCall', () => {
  it('passes parsed arguments and the context, returns JSON', async () => {
    let seen: unknown;
    const r = await runToolCall(tool(async (args, c) => ((seen = [args, c]), { ok: 1 })), call('{"a":1}'), ctx, 1000);
    expect(r).toEqual({ output: '{"ok":1}' });
    expect(seen).toEqual([{ a: 1 }, ctx]);
    expect((await runToolCall(tool(async () => 'plain text'), call(''), ctx, 1000)).output).toBe('plain text');
  });

  it('turns every failure into an error output the model can read', async () => {
    const slow = tool(() => new Promise((r) => setTimeout(r, 1000)));
    expect(await runToolCall(slow, call('{}'), ctx, 20)).toEqual({ output: '{"error":"tool \\"t\\" failed: timed out after 20 ms"}', error: 'tool "t" failed: timed out after 20 ms' });
    expect((await runToolCall(tool(async () => 1), { ...call('{}'), name: 'nope' }, ctx, 100)).error).toBe('no tool named "nope"');
    expect((await runToolCall(tool(async () => 1), call('{bad'), ctx, 100)).error).toBe('arguments for "t" are not valid JSON');
    expect((await runToolCall(tool(() => { throw new Error('sync boom'); }), call('{}'), ctx, 100)).error).toBe('tool "t" failed: sync boom');
    expect((await runToolCall(tool(async () => 'x'.repeat(MAX_TOOL_OUTPUT_CHARS + 1)), call('{}'), ctx, 100)).error).toMatch(/the limit is 32768/);
  });
});
