/**
 * Barge-in through the real pipeline: the platform's playout (memory output, simulated real
 * time) says how much the caller heard; the adapter must truncate the model's item exactly there.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { audioFrame } from '../../audio/frame.ts';
import { startCall, type Harness } from './harness.test-helper.ts';

const WORDS = 'one two three four five six seven eight nine ten eleven twelve';

async function answering(h: Harness, response: Parameters<Harness['fake']['responses']['push']>[0]): Promise<void> {
  await h.fake.waitFor(() => h.fake.eventsOf('session.update').length === 1, 'session.update');
  await h.t.feed(audioFrame(new Int16Array(2400).fill(500), 24_000));
  await h.fake.waitFor(() => h.fake.inputMs() >= 100, 'input');
  h.fake.responses.push(response);
  h.fake.speechStopped();
  await h.t.waitForEvent('reply.start');
}

describe('openaiRealtime barge-in', { timeout: 15_000 }, () => {
  it('truncates the assistant item at the ms the caller heard, after the model sent all of it', async () => {
    const h = await startCall();
    const { fake, t } = h;
    await answering(h, { audioMs: 3000, transcript: WORDS });
    await sleep(1000);
    fake.speechStarted();
    await t.waitForEvent('interrupted');
    expect(t.clears).toHaveLength(1);
    const heard = t.clears[0]!.playedMs;
    expect(heard).toBeGreaterThan(900);
    expect(heard).toBeLessThan(1400);
    const itemId = fake.sentOf('response.output_audio.delta')[0]?.item_id;
    await fake.waitFor(() => fake.sentOf('conversation.item.truncated').length === 1, 'truncated');
    expect(fake.eventsOf('conversation.item.truncate')).toEqual([{ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: Math.floor(heard) }]);
    await fake.waitFor(() => fake.sentOf('conversation.item.truncated').length === 1, 'truncated');
    expect(fake.sentOf('error')).toEqual([]);
    expect(fake.eventsOf('response.cancel')).toEqual([]); // the response had ended: nothing to cancel
    expect(t.eventsOf('interrupted')).toEqual([{ type: 'interrupted', at: expect.any(Number), turn: 1, playedMs: Math.round(heard * 10) / 10 }]);
    // What was heard: the first ~heard/3000 of the words, cut at a word boundary.
    await t.waitForEvent('transcript', 3);
    const cut = t.eventsOf('transcript').at(-1)!;
    expect(cut).toMatchObject({ role: 'assistant', interrupted: true, turn: 1 });
    expect(WORDS.startsWith(cut.text as string)).toBe(true);
    const words = (cut.text as string).split(' ').length;
    expect(Math.abs(words - (12 * heard) / 3000)).toBeLessThanOrEqual(1.5);

    // The next reply is turn 2.
    fake.responses.push({ audioMs: 200 });
    fake.speechStopped();
    await t.waitForEvent('reply.end', 2);
    expect(t.eventsOf('reply.start').map((e) => e.turn)).toEqual([1, 2]);
  });

  it('cancels a response still streaming, drops its late audio, and ignores the cancel race with the server VAD', async () => {
    const h = await startCall();
    const { fake, t } = h;
    await answering(h, { audioMs: 10_000, chunkDelayMs: 20, transcript: WORDS }); // 5x real time
    await sleep(800);
    fake.speechStarted(); // the fake's VAD cancels the response itself (interrupt_response)
    await t.waitForEvent('interrupted');
    const clearAt = t.clears[0]!.at;
    const heard = t.clears[0]!.playedMs;
    await fake.waitFor(() => fake.sentOf('conversation.item.truncated').length === 1, 'truncated');
    expect(fake.eventsOf('response.cancel')).toHaveLength(1);
    // Our cancel came second: the fake answered response_cancel_not_active, which the client never sees.
    await fake.waitFor(() => fake.sentOf('error').length === 1, 'the cancel race error');
    expect(fake.sentOf('error')[0]).toMatchObject({ error: { code: 'response_cancel_not_active' } });
    const truncate = fake.eventsOf('conversation.item.truncate');
    expect(truncate).toHaveLength(1);
    expect(truncate[0]?.audio_end_ms).toBe(Math.floor(heard));
    await fake.waitFor(() => fake.sentOf('conversation.item.truncated').length === 1, 'truncated');
    await sleep(200);
    expect(t.played.filter((p) => p.at > clearAt)).toEqual([]);
    expect(t.eventsOf('error')).toEqual([]);
    expect(t.types(['reply.start', 'reply.end', 'interrupted'])).toEqual(['reply.start', 'interrupted']);
    // The cut transcript comes from the deltas received so far (no transcript.done was sent).
    expect(t.eventsOf('transcript').at(-1)).toMatchObject({ role: 'assistant', interrupted: true, turn: 1 });
  });

  it('speech after a reply was heard whole truncates nothing', async () => {
    const h = await startCall();
    const { fake, t } = h;
    await answering(h, { audioMs: 200, transcript: 'Short.' });
    await t.waitForEvent('reply.end');
    await sleep(300); // all 200 ms played
    fake.speechStarted();
    await sleep(100);
    expect(fake.eventsOf('conversation.item.truncate')).toEqual([]);
    expect(fake.eventsOf('response.cancel')).toEqual([]);
    expect(t.eventsOf('interrupted')).toEqual([]);
  });
});
