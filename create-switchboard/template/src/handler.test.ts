/**
 * The handler through the worker's real pipeline, in-process: `speech()` makes a spoken turn,
 * `runTurn()` feeds it through the voice activity detector and returns the reply.
 */
import { durationMs } from '@switchboard/media-worker';
import { runTurn, speech } from '@switchboard/media-worker/testing';
import { describe, expect, it } from 'vitest';
import handler from './handler.ts';

describe('handler', () => {
  it('answers a spoken turn with speech and a transcript', { timeout: 60_000 }, async () => {
    const { audio, events } = await runTurn(handler, await speech('Hello there, how are you today?'));
    expect(events.map((e) => e.type)).toContain('reply.end');
    expect(events).toContainEqual(expect.objectContaining({ type: 'transcript', role: 'assistant', text: expect.stringMatching(/^You spoke for \d+\.\d seconds\.$/) }));
    expect(durationMs(audio)).toBeGreaterThan(1000);
  });
});
