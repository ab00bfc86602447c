import { audioFrame } from '../../media-worker/src/audio/frame.ts';
import { replyOnPause } from '../../media-worker/src/handlers/reply-on-pause.ts';
import type { HandlerContext, Interruption, SessionInfo } from '../../media-worker/src/handlers/types.ts';
import { tone } from './phone-audio.ts';

/**
 * A handler for end-to-end calls whose every sound is recognisable by its pitch: a 400 ms
 * greeting at 660 Hz, a 3 s reply at 440 Hz per turn, 200 ms at 1 kHz per keypress; `seen`
 * records what it was told (sessions, digits, interruptions, aborts, each reply's signal).
 */
export const GREETING_HZ = 660;
export const REPLY_HZ = 440;
export const KEY_HZ = 1000;
export const REPLY_MS = 3000;

/** What the test handler saw. */
export const seen = {
  sessions: [] as SessionInfo[],
  digits: [] as string[],
  interruptions: [] as Interruption[],
  aborted: [] as string[],
  /** Each reply's signal, in order. */
  signals: [] as AbortSignal[],
};

/** Yields `ms` of a tone in 20 ms frames at 16 kHz, stopping when the signal aborts. */
async function* toneReply(ms: number, hz: number, ctx: HandlerContext) {
  seen.signals.push(ctx.signal);
  const frames = tone(ms, hz, 16_000);
  for (let at = 0; at < frames.length; at += 320) {
    if (ctx.signal.aborted) {
      seen.aborted.push(String((ctx.signal.reason as Error | undefined)?.message));
      return;
    }
    yield audioFrame(frames.slice(at, at + 320), 16_000);
    await new Promise((r) => setTimeout(r, 5)); // a model that generates faster than real time
  }
}

/** Greets (400 ms at 660 Hz), answers each turn with 3 s at 440 Hz, and each keypress with 200 ms at 1 kHz. */
export const toneHandler = replyOnPause(
  async function* (_turn, ctx) {
    seen.sessions.push(ctx.session);
    if (ctx.lastInterruption && !seen.interruptions.includes(ctx.lastInterruption)) seen.interruptions.push(ctx.lastInterruption);
    yield* toneReply(REPLY_MS, REPLY_HZ, ctx);
  },
  {
    greeting: (ctx) => toneReply(400, GREETING_HZ, ctx),
    onEvent(event, ctx) {
      if (event.type !== 'dtmf') return;
      seen.digits.push(String(event['digit']));
      return toneReply(200, KEY_HZ, ctx);
    },
  },
);
