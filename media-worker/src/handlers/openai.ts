/**
 * `HANDLER=openai`: a voice assistant on the OpenAI Realtime API (speech to speech). Needs
 * OPENAI_API_KEY; OPENAI_REALTIME_MODEL (default gpt-realtime), OPENAI_VOICE and
 * OPENAI_INSTRUCTIONS are optional. A missing key stops the worker at start-up with an error
 * naming it.
 */
import { openaiRealtime } from '../adapters/openai-realtime/index.ts';

const env = process.env;

export default openaiRealtime({
  ...(env['OPENAI_REALTIME_MODEL'] ? { model: env['OPENAI_REALTIME_MODEL'] } : {}),
  ...(env['OPENAI_VOICE'] ? { voice: env['OPENAI_VOICE'] } : {}),
  instructions:
    env['OPENAI_INSTRUCTIONS'] ??
    'You are the Switchboard demo assistant on a voice call. Be brief and friendly: answer in one or two short sentences.',
  greeting: 'Greet the caller in one short sentence and ask how you can help.',
});
