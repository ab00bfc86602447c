/**
 * `ctx.state` checkpoints through the pipeline (real Silero VAD, in-memory transport): when they
 * are sent, what a restored state does, and the 64 KiB limit.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { audioFrame, type AudioFrame } from '../audio/frame.ts';
import { readWav } from '../audio/pcm.ts';
import { initResampler } from '../audio/resampler.ts';
import { replyOnPause } from '../handlers/reply-on-pause.ts';
import { stream } from '../handlers/stream.ts';
import type { Handler } from '../handlers/types.ts';
import { SileroModel } from '../vad/silero-model.ts';
import { StreamingVad } from '../vad/streaming-vad.ts';
import { MAX_STATE_BYTES, restoreState } from './checkpoint.ts';
import { MemoryTransport } from './memory-transport.test-helper.ts';
import type { PipelineLogger } from './session-context.ts';
import { runPipeline, type Pipeline } from './session-pipeline.ts';

let model: SileroModel;
let short: AudioFrame;
beforeAll(async () => {
  model = await SileroModel.load();
  await initResampler();
  short = readWav(readFileSync(new URL('../../../test/fixtures/audio/short-utterance.wav', import.meta.url)));
});

const warnings: string[] = [];
const log: PipelineLogger = { warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
const running: Pipeline[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) {
    p.stop('test over');
    await p.done;
  }
  warnings.length = 0;
});

function start(handler: Handler, o: { state?: Record<string, unknown>; stateJson?: string; takeover?: boolean } = {}) {
  const t = new MemoryTransport();
  const checkpoints: string[] = [];
  const p = runPipeline({
    handler,
    transport: t,
    session: { id: 's', kind: 'webrtc', ...(o.takeover ? { takeover: true } : {}) },
    vad: () => new StreamingVad(model.createStream()),
    log,
    state: o.state,
    stateJson: o.stateJson,
    onCheckpoint: (json) => checkpoints.push(json),
  });
  running.push(p);
  return { t, p, checkpoints };
}

const beep = (): AudioFrame => audioFrame(new Int16Array(320).fill(1000), 16_000);

/** Client events drive replies: `{type: 'set', key, value}` sets ctx.state[key], 'same' changes nothing. */
function eventHandler(): Handler {
  return replyOnPause(async function* () {}, {
    onEvent: (event, ctx) => {
      if (event.type === 'set') ctx.state[String(event['key'])] = event['value'];
      return (async function* () {
        yield beep();
      })();
    },
  });
}

describe('ctx.state checkpoints', { timeout: 15_000 }, () => {
  it('a turn that changed ctx.state sends its JSON once; a turn that did not sends nothing', async () => {
    const { t, checkpoints } = start(eventHandler());
    t.clientEvent({ type: 'set', key: 'n', value: 1 });
    await t.waitFor(() => checkpoints.length === 1, 'first checkpoint');
    expect(checkpoints).toEqual(['{"n":1}']);
    t.clientEvent({ type: 'same' });
    await t.waitForEvent('reply.end', 2);
    await new Promise((r) => setTimeout(r, 20));
    expect(checkpoints).toEqual(['{"n":1}']);
    t.clientEvent({ type: 'set', key: 'n', value: 2 });
    await t.waitFor(() => checkpoints.length === 2, 'second checkpoint');
    expect(checkpoints[1]).toBe('{"n":2}');
  });

  it('a user turn (real VAD) checkpoints when its reply ends', async () => {
    const h = replyOnPause(async function* (turn, ctx) {
      ctx.state.turns = Number(ctx.state.turns ?? 0) + 1;
      yield turn;
    });
    const { t, checkpoints } = start(h);
    await t.feed(short, { speed: 4 });
    await t.feed(audioFrame(new Int16Array(16_000), 16_000), { speed: 4 });
    await t.waitFor(() => checkpoints.length === 1, 'the turn checkpoint');
    expect(checkpoints).toEqual(['{"turns":1}']);
    expect(t.types(['reply.end'])).toEqual(['reply.end']);
  });

  it('a restored state reaches the handler, is not sent again until it changes, and a takeover plays no greeting', async () => {
    const restored = restoreState('{"n": 5, "name": "Ada"}', () => {});
    let seen: unknown;
    const greeted: string[] = [];
    const base = eventHandler();
    const h = replyOnPause(async function* () {}, {
      greeting: async function* () {
        greeted.push('hello');
        yield beep();
      },
      onEvent: (event, ctx) => {
        seen = structuredClone(ctx.state);
        return base.kind === 'reply-on-pause' ? base.options.onEvent?.(event, ctx) : undefined;
      },
    });
    const { t, checkpoints } = start(h, { state: restored.state, stateJson: restored.json, takeover: true });
    t.clientEvent({ type: 'same' });
    await t.waitForEvent('reply.end');
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual({ n: 5, name: 'Ada' });
    expect(checkpoints).toEqual([]);
    expect(greeted).toEqual([]);
    t.clientEvent({ type: 'set', key: 'n', value: 6 });
    await t.waitFor(() => checkpoints.length === 1, 'checkpoint');
    expect(JSON.parse(checkpoints[0]!)).toEqual({ n: 6, name: 'Ada' });
  });

  it(`a state over ${MAX_STATE_BYTES} bytes is not checkpointed: one error event and a log line, until it fits again`, async () => {
    const { t, checkpoints } = start(eventHandler());
    // 'é' is 2 bytes of UTF-8: 40,000 of them are 80,000 bytes in 40,000 characters.
    t.clientEvent({ type: 'set', key: 'big', value: 'é'.repeat(40_000) });
    await t.waitForEvent('reply.end');
    t.clientEvent({ type: 'set', key: 'big', value: 'è'.repeat(40_000) });
    await t.waitForEvent('reply.end', 2);
    await new Promise((r) => setTimeout(r, 20));
    expect(checkpoints).toEqual([]);
    const errors = t.eventsOf<{ type: 'error'; message: string }>('error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/over the 65536-byte limit/);
    expect(warnings.some((w) => /over the 65536-byte limit/.test(w))).toBe(true);
    t.clientEvent({ type: 'set', key: 'big', value: 'small' });
    await t.waitFor(() => checkpoints.length === 1, 'checkpoint once it fits');
    expect(checkpoints).toEqual(['{"big":"small"}']);
  });

  it('a stream handler checkpoints where it yields reply.end or interrupted, or clears its playback', async () => {
    const h = stream(
      async function* (input, ctx) {
        let n = 0;
        for await (const f of input) {
          n++;
          if (n === 5) {
            ctx.state.replies = 1;
            yield { type: 'reply.end', at: Date.now(), turn: 1 };
          }
          if (n === 10) {
            ctx.state.replies = 2;
            ctx.clearPlayback();
          }
          if (n === 15) ctx.state.replies = 3; // no reply end: not checkpointed
          yield f;
        }
      },
      { inputSampleRate: 16_000 },
    );
    const { t, checkpoints } = start(h);
    await t.feed(audioFrame(new Int16Array(16_000 * 0.4), 16_000), { speed: 4 });
    await t.waitFor(() => checkpoints.length === 2, 'two checkpoints');
    await new Promise((r) => setTimeout(r, 50));
    expect(checkpoints).toEqual(['{"replies":1}', '{"replies":2}']);
  });
});

describe('restoreState', () => {
  it('gives {} for a state that is absent, not JSON or not an object, and says why', () => {
    const said: string[] = [];
    expect(restoreState(undefined, (m) => said.push(m)).state).toEqual({});
    expect(restoreState('{nope', (m) => said.push(m)).state).toEqual({});
    expect(restoreState('[1,2]', (m) => said.push(m)).state).toEqual({});
    expect(restoreState('null', (m) => said.push(m)).state).toEqual({});
    expect(said).toHaveLength(3);
    expect(restoreState('{"a":[1]}', () => {})).toEqual({ state: { a: [1] }, json: '{"a":[1]}' });
  });
});
