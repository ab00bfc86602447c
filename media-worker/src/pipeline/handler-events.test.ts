/**
 * Client events reaching handlers (`onEvent`: data-channel messages, phone keypresses) and the
 * greeting rule for calls taken over from a lost worker, over the in-memory transport.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { audioFrame } from '../audio/frame.ts';
import { initResampler } from '../audio/resampler.ts';
import { replyOnPause } from '../handlers/reply-on-pause.ts';
import { stream } from '../handlers/stream.ts';
import type { Handler, SessionInfo } from '../handlers/types.ts';
import { MemoryTransport } from './memory-transport.test-helper.ts';
import { runPipeline, type Pipeline } from './session-pipeline.ts';
import type { PipelineLogger } from './session-context.ts';
import type { VadStream } from './turn-runner.ts';

beforeAll(initResampler);

const logged: string[] = [];
const log: PipelineLogger = { warn: (m) => logged.push(m), error: (m) => logged.push(m) };
/** These tests send no speech: a VAD that never reports any. */
const silentVad = (): VadStream => ({ push: async () => [] });

const running: Pipeline[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) {
    p.stop('test over');
    await p.done;
  }
  logged.length = 0;
});

function start(handler: Handler, session: SessionInfo = { id: 'c_1', kind: 'phone' }) {
  const t = new MemoryTransport();
  const p = runPipeline({ handler, transport: t, session, vad: silentVad, log });
  running.push(p);
  return { t, p };
}

const tone = (ms: number, value: number) => audioFrame(new Int16Array((16_000 * ms) / 1000).fill(value), 16_000);

describe('handler onEvent', () => {
  it('replyOnPause: a keypress reply interrupts the greeting and plays as the next turn', async () => {
    const seen: string[] = [];
    const h = replyOnPause(async function* () {}, {
      greeting: async function* () {
        yield tone(5000, 100);
      },
      onEvent(event) {
        seen.push(`${event.type}:${String(event['digit'])}`);
        if (event.type !== 'dtmf') return;
        return (async function* () {
          yield { type: 'pressed', digit: event['digit'] };
          yield tone(200, 200);
        })();
      },
    });
    const { t, p } = start(h);
    await t.waitForEvent('reply.start');
    t.clientEvent({ type: 'hello' });
    t.clientEvent({ type: 'dtmf', digit: '7' });
    await t.waitForEvent('reply.end');
    expect(seen).toEqual(['hello:undefined', 'dtmf:7']);
    expect(t.types(['reply.start', 'interrupted', 'pressed', 'reply.end'])).toEqual(['reply.start', 'interrupted', 'pressed', 'reply.start', 'reply.end']);
    expect(t.eventsOf('interrupted')).toEqual([expect.objectContaining({ turn: 0 })]);
    expect(t.eventsOf('reply.end')).toEqual([expect.objectContaining({ turn: 1 })]);
    expect(t.clears).toHaveLength(1);
    expect(p.stats.interruptions).toBe(1);
  });

  it('replyOnPause: an onEvent that throws sends an error event and the session lives on', async () => {
    const h = replyOnPause(async function* () {}, {
      onEvent() {
        throw new Error('bad key');
      },
    });
    const { t, p } = start(h);
    t.clientEvent({ type: 'dtmf', digit: '1' });
    await t.waitForEvent('error');
    expect(t.eventsOf('error')).toEqual([{ type: 'error', message: 'handler onEvent failed: bad key' }]);
    expect(p.reason).toBeUndefined();
  });

  it('stream: onEvent gets each event with the running context', async () => {
    const got: unknown[] = [];
    const h = stream(
      async function* (input) {
        for await (const _f of input) {
          // consume until the session ends
        }
      },
      { onEvent: (event, ctx) => got.push([event, ctx.session.kind]) },
    );
    const { t } = start(h);
    t.clientEvent({ type: 'dtmf', digit: '#' });
    t.clientEvent({ type: 'dtmf', digit: '1' });
    expect(got).toEqual([
      [{ type: 'dtmf', digit: '#' }, 'phone'],
      [{ type: 'dtmf', digit: '1' }, 'phone'],
    ]);
  });

  it('rejects a non-function onEvent at construction', () => {
    expect(() => replyOnPause(async function* () {}, { onEvent: 'x' as never })).toThrow(/option "onEvent" must be a function/);
    expect(() => stream(async function* () {}, { onEvent: 1 as never })).toThrow(/option "onEvent" must be a function/);
  });
});

describe('greeting', () => {
  const greeted = () =>
    replyOnPause(async function* () {}, {
      greeting: async function* () {
        yield tone(100, 300);
      },
    });

  it('plays on a new call', async () => {
    const { t } = start(greeted());
    await t.waitForEvent('reply.end');
    expect(t.playedMs()).toBe(100);
  });

  it('is not replayed on a call taken over from a lost worker', async () => {
    const { t } = start(greeted(), { id: 'c_1', kind: 'phone', takeover: true });
    await new Promise((r) => setTimeout(r, 100));
    expect(t.played).toEqual([]);
    expect(t.events).toEqual([]);
  });
});
