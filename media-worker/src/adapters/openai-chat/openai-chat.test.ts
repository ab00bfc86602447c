/** openaiChat against the protocol-level fake of OpenAI's streaming chat completions. */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeOpenAiServer, type FakeChatReply } from '../fakes/openai-chat-server.ts';
import { AdapterConfigError, type LlmChunk } from '../types.ts';
import { openaiChat, type OpenAiChatOptions } from './openai-chat.ts';
import { ToolCallAssembler } from './tool-calls.ts';

const servers: FakeOpenAiServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function setup(reply: FakeChatReply | ((i: number) => FakeChatReply), opts: OpenAiChatOptions = {}) {
  const server = await FakeOpenAiServer.start({ respond: (_r, i) => (typeof reply === 'function' ? reply(i) : reply) });
  servers.push(server);
  const llm = openaiChat({ apiKey: 'test-key', baseURL: server.baseURL, model: 'fake-model', ...opts });
  return { server, llm };
}

async function collect(it: AsyncIterable<LlmChunk>): Promise<LlmChunk[]> {
  const out: LlmChunk[] = [];
  for await (const c of it) out.push(c);
  return out;
}

const user = [{ role: 'user' as const, content: 'hi' }];

describe('openaiChat', { timeout: 10_000 }, () => {
  it('a missing key is an AdapterConfigError naming OPENAI_API_KEY', () => {
    expect(() => openaiChat({}, {})).toThrow(AdapterConfigError);
    expect(() => openaiChat({}, {})).toThrow(/OPENAI_API_KEY/);
  });

  it('streams text deltas; sends model, messages, temperature, max_tokens, Bearer key', async () => {
    const { server, llm } = await setup({ text: 'Hello there. How are you?' }, { temperature: 0.3, maxTokens: 100 });
    const chunks = await collect(llm.complete({ messages: user }, new AbortController().signal));
    expect(chunks.map((c) => (c.type === 'text' ? c.text : '?'))).toEqual(['Hello', ' there.', ' How', ' are', ' you?']);
    const req = server.requests[0]!;
    expect(req.headers.authorization).toBe('Bearer test-key');
    expect(req.body).toMatchObject({ model: 'fake-model', messages: user, stream: true, temperature: 0.3, max_tokens: 100 });
    expect(req.body.tools).toBeUndefined();
  });

  it('OPENAI_BASE_URL and OPENAI_API_KEY from the environment', async () => {
    const server = await FakeOpenAiServer.start();
    servers.push(server);
    const llm = openaiChat({}, { OPENAI_API_KEY: 'test-key', OPENAI_BASE_URL: server.baseURL });
    const chunks = await collect(llm.complete({ messages: user }, new AbortController().signal));
    expect(chunks.length).toBeGreaterThan(3);
    expect(server.requests[0]!.body.model).toBe('gpt-4o-mini');
  });

  it('assembles tool-call deltas into complete calls, after the text, and sends the tools', async () => {
    const { server, llm } = await setup({
      text: 'Let me check.',
      toolCalls: [
        { id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' },
        { id: 'call_b', name: 'get_time', arguments: '{"tz":"Europe/Paris"}' },
      ],
      argumentPieces: 4,
    });
    const tools = [{ name: 'get_weather', description: 'Weather now', parameters: { type: 'object', properties: { city: { type: 'string' } } } }];
    const chunks = await collect(llm.complete({ messages: user, tools }, new AbortController().signal));
    expect(chunks.filter((c) => c.type === 'tool-call')).toEqual([
      { type: 'tool-call', call: { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' } } },
      { type: 'tool-call', call: { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{"tz":"Europe/Paris"}' } } },
    ]);
    expect(chunks[0]).toEqual({ type: 'text', text: 'Let' });
    expect(server.requests[0]!.body.tools).toEqual([{ type: 'function', function: tools[0] }]);
  });

  it('401 and 429 become errors with the status and the provider\'s message, without retries', async () => {
    const { server, llm } = await setup((i) =>
      i === 0 ? { error: { status: 401, message: 'Incorrect API key provided.', code: 'invalid_api_key' } } : { error: { status: 429, message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' } },
    );
    await expect(collect(llm.complete({ messages: user }, new AbortController().signal))).rejects.toThrow(
      new RegExp(`^openai-chat \\(fake-model at 127\\.0\\.0\\.1:${new URL(server.baseURL).port}\\): HTTP 401: Incorrect API key provided\\.$`),
    );
    await expect(collect(llm.complete({ messages: user }, new AbortController().signal))).rejects.toThrow(/HTTP 429: Rate limit reached for requests$/);
    expect(server.requests).toHaveLength(2);
  });

  it('a 500 is an error too', async () => {
    const { llm } = await setup({ error: { status: 500, message: 'The server had an error while processing your request.' } });
    await expect(collect(llm.complete({ messages: user }, new AbortController().signal))).rejects.toThrow(/HTTP 500: The server had an error/);
  });

  it('a disconnect mid-stream is an error after the tokens already streamed', async () => {
    const { llm } = await setup({ text: 'one two three four five', disconnectAfterTokens: 2 });
    const got: string[] = [];
    await expect(
      (async () => {
        for await (const c of llm.complete({ messages: user }, new AbortController().signal)) if (c.type === 'text') got.push(c.text);
      })(),
    ).rejects.toThrow(/openai-chat \(fake-model/);
    expect(got).toEqual(['one', ' two']);
  });

  it('a stream that ends cleanly without finish_reason is reported as cut, not as a short answer', async () => {
    const { llm } = await setup({ text: 'one two three', endAfterTokens: 1 });
    await expect(collect(llm.complete({ messages: user }, new AbortController().signal))).rejects.toThrow(/ended before the completion finished/);
  });

  it('aborting the signal cancels the request at once (the server sees the client go)', async () => {
    const { server, llm } = await setup({ text: 'a b c d e f g h i j', tokenDelayMs: 100 });
    const ac = new AbortController();
    const it = llm.complete({ messages: user }, ac.signal)[Symbol.asyncIterator]();
    expect((await it.next()).value).toEqual({ type: 'text', text: 'a' });
    const t0 = performance.now();
    ac.abort(new Error('barge-in'));
    await expect(it.next()).rejects.toThrow('barge-in');
    expect(performance.now() - t0).toBeLessThan(50);
    for (let i = 0; i < 100 && !server.requests[0]!.aborted; i++) await new Promise((r) => setTimeout(r, 5));
    expect(server.requests[0]!.aborted).toBe(true);
    expect(server.requests[0]!.completed).toBe(false);
  });

  it('a stalled stream fails after idleTimeoutMs; a slow first token after firstChunkTimeoutMs', async () => {
    const { llm } = await setup((i) => (i === 0 ? { text: 'a b c', tokenDelayMs: 400 } : { text: 'a', firstTokenDelayMs: 400 }), { idleTimeoutMs: 150, firstChunkTimeoutMs: 150 });
    await expect(collect(llm.complete({ messages: user }, new AbortController().signal))).rejects.toThrow(/stalled for 150 ms/);
    await expect(collect(llm.complete({ messages: user }, new AbortController().signal))).rejects.toThrow(/no response within 150 ms/);
  });

  it('a consumer slower than the stream still gets every token (the server waits on backpressure)', async () => {
    const text = Array.from({ length: 3000 }, (_, i) => `w${i}`).join(' ');
    const { server, llm } = await setup({ text });
    let n = 0;
    for await (const c of llm.complete({ messages: user }, new AbortController().signal)) {
      if (c.type === 'text') n++;
      if (n % 500 === 0) await new Promise((r) => setTimeout(r, 20));
    }
    expect(n).toBe(3000);
    expect(server.requests[0]!.completed).toBe(true);
  });

  it('the reply and the response are bounded', async () => {
    const { llm } = await setup({ text: 'x '.repeat(200) }, { maxTextChars: 100 });
    await expect(collect(llm.complete({ messages: user }, new AbortController().signal))).rejects.toThrow(/longer than 100 characters/);
    const big = await setup({ text: 'y '.repeat(5000) }, { maxResponseBytes: 10_000 });
    await expect(collect(big.llm.complete({ messages: user }, new AbortController().signal))).rejects.toThrow(/larger than 10000 bytes/);
  });

  it('the assembler bounds calls and argument size, and rejects a call without a name', () => {
    const a = new ToolCallAssembler(1, 10);
    a.add({ index: 0, id: 'x', function: { name: 'f', arguments: '{"a":' } });
    expect(() => a.add({ index: 1, function: { name: 'g' } })).toThrow(/more than 1 tool calls/);
    expect(() => a.add({ index: 0, function: { arguments: '123456789' } })).toThrow(/longer than 10/);
    const b = new ToolCallAssembler();
    b.add({ index: 0, function: { arguments: '{}' } });
    expect(() => b.finish()).toThrow(/without a function name/);
  });
});
