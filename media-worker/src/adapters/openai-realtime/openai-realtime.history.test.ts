/**
 * The conversation survives the worker: lines in ctx.state (with what the caller heard of an
 * interrupted reply), replayed into the new Realtime session when another worker takes the call over.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { audioFrame } from '../../audio/frame.ts';
import { startCall, type Harness } from './harness.test-helper.ts';
import { STATE_KEY } from './history.ts';

const WORDS = 'one two three four five six seven eight nine ten eleven twelve';

async function turn(h: Harness, response: Parameters<Harness['fake']['responses']['push']>[0], n: number): Promise<void> {
  await h.t.feed(audioFrame(new Int16Array(2400).fill(500), 24_000));
  await h.fake.waitFor(() => h.fake.inputMs() >= 100 * n, 'input');
  h.fake.responses.push(response);
  h.fake.speechStopped();
  await h.t.waitForEvent('reply.start', n);
}

describe('openaiRealtime conversation history', { timeout: 15_000 }, () => {
  it('keeps both sides in ctx.state, cut to what was heard on barge-in, and replays it into a taken-over call', async () => {
    const state: Record<string, unknown> = {};
    const h = await startCall({}, { state });
    await h.fake.waitFor(() => h.fake.eventsOf('session.update').length === 1, 'session.update');
    h.fake.userTranscript = 'what can you do';
    await turn(h, { audioMs: 300, transcript: 'I can book rooms.' }, 1);
    await h.t.waitForEvent('reply.end');
    h.fake.userTranscript = 'count for me';
    await turn(h, { audioMs: 3000, transcript: WORDS }, 2);
    await sleep(1000);
    h.fake.speechStarted();
    await h.t.waitForEvent('interrupted');
    await h.fake.waitFor(() => h.t.eventsOf('transcript').some((e) => e.interrupted === true), 'the heard transcript');
    const heard = h.t.eventsOf('transcript').find((e) => e.interrupted === true)!.text as string;
    expect(heard.length).toBeGreaterThan(0);
    expect(heard.length).toBeLessThan(WORDS.length);
    const lines = (state[STATE_KEY] as { lines: unknown[] }).lines;
    expect(lines).toEqual([
      { role: 'user', text: 'what can you do' },
      { role: 'assistant', text: 'I can book rooms.' },
      { role: 'user', text: 'count for me' },
      { role: 'assistant', text: heard },
    ]);

    // Another worker takes the call over with the checkpointed state: the model is told the conversation first.
    const restored = JSON.parse(JSON.stringify(state)) as Record<string, unknown>;
    const next = await startCall({ greeting: true }, { session: { takeover: true }, state: restored });
    await next.fake.waitFor(() => next.fake.eventsOf('conversation.item.create').length === 4, 'the replayed conversation');
    expect(next.fake.received.map((r) => r.event.type).slice(0, 5)).toEqual(['session.update', ...Array(4).fill('conversation.item.create')]);
    expect(next.fake.eventsOf('conversation.item.create').map((e) => e.item)).toEqual([
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'what can you do' }] },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'I can book rooms.' }] },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'count for me' }] },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: heard }] },
    ]);
    await sleep(100);
    expect(next.fake.sentOf('error')).toEqual([]); // the fake accepted each item as documented
    expect(next.fake.eventsOf('response.create')).toEqual([]); // no greeting on a takeover
  });
});
