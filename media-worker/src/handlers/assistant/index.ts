/**
 * Demo handler `HANDLER=assistant`: a fully offline voice assistant. It greets, recognizes a small
 * set of phrases (phrases.ts, documented in README.md) with pocketsphinx against a JSGF grammar,
 * takes phone keypresses (`{type: 'dtmf', digit}`) and typed text (`{type: 'input', text}`), and
 * answers in speech with Flite (`say`). It sends `transcript` events for what it understood
 * (role user) and what it says (role assistant), with the pipeline's turn number, and an
 * `assistant.asr` event with each raw recognition (text, score, accepted, ms) for tuning.
 *
 * Turn numbers: the pipeline numbers the greeting 0 and then each speech turn and each event that
 * gets a reply; `ctx.state.turn` counts the same way, so transcripts carry the turn of their reply.
 * "Goodbye" only says goodbye: a replyOnPause handler cannot end the session (the caller hangs
 * up); a stream handler would end it by finishing its output.
 */
import type { ChannelMessage } from '@switchboard/protocol';
import type { HandlerContext, ReplyChunk } from '../types.ts';
import { replyOnPause } from '../reply-on-pause.ts';
import { say } from '../../voice/say.ts';
import { intentOfKey, intentOfText, type Intent } from './phrases.ts';
import { accepted, assistantRecognizer, forget } from './recognizer.ts';
import { GREETING, answer, notCaught, recognizerDown, unknownKey } from './replies.ts';
import { RecognizerFailedError } from '../../voice/pocketsphinx.ts';

/** Typed input longer than this is not one of the phrases: not matched. */
const MAX_INPUT_CHARS = 200;

function nextTurn(ctx: HandlerContext): number {
  const turn = (typeof ctx.state['turn'] === 'number' ? ctx.state['turn'] : 0) + 1;
  ctx.state['turn'] = turn;
  return turn;
}

/** Says `text` (transcript first, so a client shows it as the audio starts) and remembers it for "repeat". */
async function* speak(text: string, ctx: HandlerContext, turn: number): AsyncGenerator<ReplyChunk> {
  ctx.state['last'] = text;
  yield { type: 'transcript', role: 'assistant', text, turn };
  yield* say(text, { sampleRate: 16_000, signal: ctx.signal });
}

async function* reply(intent: Intent | undefined, fallback: string, ctx: HandlerContext, turn: number): AsyncGenerator<ReplyChunk> {
  yield* speak(intent ? answer(intent, ctx.state) : fallback, ctx, turn);
}

export default replyOnPause(
  async function* assistant(turnAudio, ctx) {
    const turn = nextTurn(ctx);
    let intent: Intent | undefined;
    try {
      const r = await (await assistantRecognizer()).recognize(turnAudio, ctx.signal);
      const ok = accepted(r, ctx.session.kind);
      yield { type: 'assistant.asr', text: r.text, scorePerFrame: Math.round(r.scorePerFrame * 10) / 10, accepted: ok, ms: Math.round(r.ms), turn };
      intent = ok ? intentOfText(r.text) : undefined;
      if (intent) yield { type: 'transcript', role: 'user', text: r.text, turn };
    } catch (err) {
      if (ctx.signal.aborted) return;
      if (err instanceof RecognizerFailedError) forget();
      yield { type: 'error', message: `speech recognition failed: ${err instanceof Error ? err.message : String(err)}` };
      yield* speak(recognizerDown(), ctx, turn);
      return;
    }
    yield* reply(intent, notCaught(), ctx, turn);
  },
  {
    async *greeting(ctx) {
      // Loads the model while the greeting plays; a failure shows at the first turn.
      assistantRecognizer().catch(() => {});
      yield* speak(GREETING, ctx, 0);
    },
    onEvent(event: ChannelMessage, ctx: HandlerContext) {
      if (event.type === 'dtmf') {
        const digit = typeof event['digit'] === 'string' ? event['digit'] : '';
        const turn = nextTurn(ctx);
        const intent = intentOfKey(digit);
        return (async function* () {
          yield { type: 'transcript', role: 'user', text: `(pressed ${digit || '?'})`, turn };
          yield* reply(intent, unknownKey(), ctx, turn);
        })();
      }
      if (event.type === 'input' && typeof event['text'] === 'string' && event['text'].trim() !== '') {
        const text = event['text'].slice(0, MAX_INPUT_CHARS);
        const turn = nextTurn(ctx);
        const intent = text.length < MAX_INPUT_CHARS ? intentOfText(text) : undefined;
        return (async function* () {
          yield { type: 'transcript', role: 'user', text, turn };
          yield* reply(intent, notCaught(), ctx, turn);
        })();
      }
      return undefined; // other client events: not for the assistant
    },
  },
);
