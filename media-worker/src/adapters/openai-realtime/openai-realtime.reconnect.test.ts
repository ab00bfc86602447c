/**
 * A connection to OpenAI lost mid-call is reopened: the new session gets session.update and the
 * conversation so far, the caller's audio flows to it, and the call goes on. A refused key, a
 * session the server ended, too many losses, or a call that already ended: not reopened.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { audioFrame } from '../../audio/frame.ts';
import { startCall, type Harness } from './harness.test-helper.ts';
import { MAX_LOSSES_PER_CALL, RECONNECT_DELAYS_MS } from './reconnect-policy.ts';

const WORDS = 'one two three four five six seven eight nine ten eleven twelve';
type Response = Parameters<Harness['fake']['responses']['push']>[0];

/** 100 ms of caller speech on the latest connection, then the server VAD ends the turn and the model answers `response`. */
async function turn(h: Harness, response: Response, n: number): Promise<void> {
  const before = h.fake.inputMs();
  await h.t.feed(audioFrame(new Int16Array(2400).fill(500), 24_000));
  await h.fake.waitFor(() => h.fake.inputMs() >= before + 100, 'input');
  h.fake.responses.push(response);
  h.fake.speechStopped();
  await h.t.waitForEvent('reply.start', n);
}

const opened = (h: Harness): Promise<void> => h.fake.waitFor(() => h.fake.eventsOf('session.update').length === 1, 'session.update');
const message = (role: 'user' | 'assistant', text: string): unknown => ({ type: 'message', role, content: [{ type: role === 'user' ? 'input_text' : 'output_text', text }] });

describe('openaiRealtime reconnect', { timeout: 20_000 }, () => {
  it('a socket dropped mid-reply is reopened with the session and the conversation, and the call goes on', async () => {
    const state: Record<string, unknown> = {};
    const h = await startCall({}, { state });
    await opened(h);
    h.fake.userTranscript = 'what can you do';
    await turn(h, { audioMs: 300, transcript: 'I can book rooms.' }, 1);
    await h.t.waitForEvent('reply.end');
    h.fake.userTranscript = 'count for me';
    // 5 of 20 deltas (500 ms, and the words sent with them) arrive; then the socket dies without a close frame.
    await turn(h, { audioMs: 2000, chunkDelayMs: 5, transcript: WORDS, disconnectAfterChunks: 5 }, 2);
    await h.t.waitForEvent('model.reconnecting');
    // Caller audio during the gap (the first attempt waits 250 ms): dropped and counted.
    await h.t.feed(audioFrame(new Int16Array(2400).fill(500), 24_000), { speed: Infinity });
    await h.t.waitForEvent('model.reconnected');

    expect(h.t.eventsOf('model.reconnecting')[0]?.message).toBe('OpenAI Realtime: OpenAI Realtime closed the connection mid-call (code 1006)');
    const reconnected = h.t.eventsOf('model.reconnected')[0]!;
    expect(reconnected).toMatchObject({ attempts: 1, droppedInputFrames: 5 });
    expect(reconnected.gapMs).toBeGreaterThanOrEqual(RECONNECT_DELAYS_MS[0]! - 1);
    expect(h.fake.connections).toBe(2);

    // The words that came with the received audio: the reply's transcript, and its line in the conversation.
    const itemId = h.fake.sentOf('response.output_audio.delta').at(-1)?.item_id;
    const sentWords = h.fake.sentOf('response.output_audio_transcript.delta').filter((e) => e.item_id === itemId).map((e) => e.delta).join('').trim();
    expect(sentWords).toBe('one two three');
    await h.fake.waitFor(() => h.fake.received.filter((r) => r.conn === 1).length >= 5, 'the new session set up');
    const onNew = h.fake.received.filter((r) => r.conn === 1).map((r) => r.event);
    expect(onNew.slice(0, 5).map((e) => e.type)).toEqual(['session.update', ...Array(4).fill('conversation.item.create')]);
    expect(onNew[0]).toEqual(h.fake.eventsOf('session.update')[0]);
    expect(onNew.slice(1, 5).map((e) => e.item)).toEqual([
      message('user', 'what can you do'),
      message('assistant', 'I can book rooms.'),
      message('user', 'count for me'),
      message('assistant', 'one two three'),
    ]);

    // The reply being received plays what came (500 ms), then ends.
    await h.t.waitForEvent('reply.end', 2);
    expect(h.t.playedMs()).toBe(800);
    expect(h.t.eventsOf('transcript').filter((e) => e.role === 'assistant' && e.turn === 2)).toEqual([{ type: 'transcript', role: 'assistant', text: 'one two three', final: true, turn: 2 }]);

    // The next turn runs on the new connection: the caller's audio reaches it, the model's reply plays.
    h.fake.userTranscript = 'thanks';
    await turn(h, { audioMs: 300, transcript: 'You are welcome.' }, 3);
    await h.t.waitForEvent('reply.end', 3);
    expect(h.fake.received.filter((r) => r.conn === 1 && r.event.type === 'input_audio_buffer.append').length).toBeGreaterThan(0);
    expect(h.fake.inputMs()).toBeGreaterThanOrEqual(100);
    expect(h.t.playedMs()).toBe(1100);
    expect(h.fake.sent.filter((r) => r.conn === 1 && r.event.type === 'error')).toEqual([]);
    expect((state.openaiRealtime as { lines: unknown[] }).lines.slice(-2)).toEqual([
      { role: 'user', text: 'thanks' },
      { role: 'assistant', text: 'You are welcome.' },
    ]);
    expect(h.p.reason).toBeUndefined();
  });

  it('tool calls of the lost session are abandoned: the client is told, their output goes nowhere', async () => {
    let finished = 0;
    const tool = { name: 'lookup', description: 'slow lookup', parameters: { type: 'object' }, run: async () => (await sleep(300), finished++, { ok: true }) };
    const h = await startCall({ tools: [tool] });
    await opened(h);
    await turn(h, { audioMs: 200, transcript: 'Let me check.', functionCall: { name: 'lookup', arguments: '{}' } }, 1);
    await h.t.waitForEvent('tool.call');
    h.fake.dropConnections();
    await h.t.waitForEvent('model.reconnected');
    await h.t.waitFor(() => finished === 1, 'the tool to finish');
    await sleep(50);
    const callId = h.t.eventsOf('tool.call')[0]?.callId;
    expect(h.t.eventsOf('model.reconnecting')[0]?.abandonedToolCalls).toEqual([callId]);
    expect(h.fake.eventsOf('conversation.item.create').filter((e) => (e.item as { type: string }).type === 'function_call_output')).toEqual([]);
    expect(h.fake.eventsOf('response.create')).toEqual([]);
    await h.t.waitForEvent('reply.end'); // the tool chain's reply ends with what played
    expect(h.fake.sent.filter((r) => r.event.type === 'error')).toEqual([]);
  });

  it('a key refused on reconnect ends the call with the HTTP status and OpenAI\'s message, without retrying', async () => {
    const h = await startCall();
    await opened(h);
    h.fake.refuseStatus = 401;
    h.fake.dropConnections();
    await h.p.done;
    expect(h.p.reason).toBe('handler-failed');
    expect(h.t.eventsOf('error').at(-1)?.message).toBe(
      'handler failed: openai-realtime: OpenAI Realtime closed the connection mid-call (code 1006); reconnecting failed: OpenAI Realtime refused the connection: HTTP 401 Incorrect API key provided. (check OPENAI_API_KEY)',
    );
    expect(h.fake.headers).toHaveLength(2);
    expect(h.t.eventsOf('model.reconnected')).toEqual([]);
  });

  it('a server still failing after every attempt ends the call naming the last failure', async () => {
    const h = await startCall();
    await opened(h);
    h.fake.refuseStatus = 503;
    const t0 = performance.now();
    h.fake.dropConnections();
    await h.p.done;
    expect(performance.now() - t0).toBeGreaterThanOrEqual(RECONNECT_DELAYS_MS.reduce((a, b) => a + b, 0) - 5);
    expect(h.fake.headers).toHaveLength(1 + RECONNECT_DELAYS_MS.length);
    expect(h.t.eventsOf('error').at(-1)?.message).toBe(
      'handler failed: openai-realtime: OpenAI Realtime closed the connection mid-call (code 1006); reconnecting failed: OpenAI Realtime refused the connection: HTTP 503 The server had an error.',
    );
  });

  it(`more than ${MAX_LOSSES_PER_CALL} losses in a call end it`, async () => {
    const h = await startCall();
    await opened(h);
    for (let i = 1; i <= MAX_LOSSES_PER_CALL; i++) {
      h.fake.dropConnections();
      await h.t.waitForEvent('model.reconnected', i);
      await h.fake.waitFor(() => h.fake.eventsOf('session.update').length === 1 + i, `connection ${i + 1} set up`);
    }
    expect(h.p.reason).toBeUndefined();
    h.fake.dropConnections();
    await h.p.done;
    expect(h.t.eventsOf('error').at(-1)?.message).toBe(
      `handler failed: openai-realtime: OpenAI Realtime closed the connection mid-call (code 1006); not reconnecting: the connection was lost ${MAX_LOSSES_PER_CALL + 1} times in this call (at most ${MAX_LOSSES_PER_CALL} are recovered)`,
    );
    expect(h.fake.connections).toBe(1 + MAX_LOSSES_PER_CALL);
  });

  it('nothing is reopened once the call has ended, even while waiting to reconnect', async () => {
    const ended = await startCall();
    await opened(ended);
    ended.p.stop('caller hung up');
    await ended.p.done;

    const waiting = await startCall();
    await opened(waiting);
    waiting.fake.dropConnections();
    await waiting.t.waitForEvent('model.reconnecting');
    waiting.p.stop('caller hung up');
    await waiting.p.done;

    await sleep(RECONNECT_DELAYS_MS[0]! + 300);
    expect(ended.fake.headers).toHaveLength(1);
    expect(waiting.fake.headers).toHaveLength(1);
    expect(waiting.t.eventsOf('model.reconnected')).toEqual([]);
  });
});
