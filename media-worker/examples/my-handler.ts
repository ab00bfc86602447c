/**
 * A complete handler app: run the worker with `HANDLER=examples/my-handler.ts`.
 *
 * After each turn it tells the client how long the caller spoke, then plays their words back
 * twice as fast (every other sample, announced at the turn's rate: the pipeline resamples the
 * reply to whatever the caller's transport needs). It stops early if the caller interrupts.
 * (Handler modules import the public entry, src/index.ts.)
 */
import { audioFrame, durationMs, replyOnPause } from '../src/index.ts';

export default replyOnPause(
  async function* (turn, ctx) {
    yield { type: 'transcript', text: `(you spoke for ${Math.round(durationMs(turn))} ms)` };
    const fast = new Int16Array(Math.floor(turn.samples.length / 2));
    for (let i = 0; i < fast.length; i++) fast[i] = turn.samples[i * 2] ?? 0;
    const step = turn.sampleRate / 10; // 100 ms of the sped-up audio per frame
    for (let at = 0; at < fast.length; at += step) {
      if (ctx.signal.aborted) return;
      yield audioFrame(fast.slice(at, at + step), turn.sampleRate);
    }
  },
  { silenceMs: 800 },
);
