/**
 * The handler the browser SDK test calls (a worker process loads it as HANDLER): greets with a
 * transcript event only (no audio), echoes each turn
 * and says so in a `transcript` event, and answers each client event with a handler event
 * `{type: 'handler.echo', got}` (what `call.send()` delivered).
 */
import { durationMs } from '../../media-worker/src/audio/frame.ts';
import { replyOnPause } from '../../media-worker/src/handlers/reply-on-pause.ts';

export default replyOnPause(
  async function* (turn, ctx) {
    ctx.send({ type: 'transcript', role: 'user', text: `you spoke for ${Math.round(durationMs(turn))} ms` });
    yield turn;
    ctx.send({ type: 'transcript', role: 'assistant', text: 'that was you' });
  },
  {
    // Sent as the call connects, before the browser's `events` channel is open: held and delivered.
    async *greeting() {
      yield { type: 'transcript', role: 'assistant', text: 'hello from the handler' };
    },
    onEvent(event, ctx) {
      ctx.send({ type: 'handler.echo', got: event });
    },
  },
);
