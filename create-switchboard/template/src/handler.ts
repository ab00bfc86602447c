/**
 * The voice handler: the worker calls it with each of the caller's turns (their speech, once they
 * pause) and plays what it yields. Here it answers with how long they spoke, spoken by the
 * worker's offline voice (`say`); swap in your model, or an adapter from
 * `@switchboard/media-worker/adapters`.
 */
import { durationMs, replyOnPause, say } from '@switchboard/media-worker';

export default replyOnPause(async function* (turn, ctx) {
  const text = `You spoke for ${(durationMs(turn) / 1000).toFixed(1)} seconds.`;
  // Events reach the client (the browser SDK's `call.on('transcript', ...)`).
  yield { type: 'transcript', role: 'assistant', text };
  // The signal aborts when the caller talks over the reply: speech stops at once.
  yield* say(text, { signal: ctx.signal });
});
