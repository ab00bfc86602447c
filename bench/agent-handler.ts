/**
 * The media worker's handler for the `agent` bench section (HANDLER=<this file>): the cascade as
 * an application would write it, on the Deepgram, OpenAI chat and ElevenLabs adapters with their
 * defaults (Deepgram endpointing 300 ms, ElevenLabs pcm_24000). The bench points them at the
 * protocol fakes it hosts through the adapters' own env variables: DEEPGRAM_URL,
 * DEEPGRAM_API_KEY, OPENAI_BASE_URL, OPENAI_API_KEY, ELEVENLABS_URL, ELEVENLABS_API_KEY.
 */
import { cascade, deepgramStt, elevenlabsTts, openaiChat } from '../media-worker/src/adapters/index.ts';

export default cascade({
  stt: deepgramStt(),
  llm: openaiChat({ model: 'gpt-4o-mini' }),
  tts: elevenlabsTts({ voiceId: 'bench-voice' }),
  instructions: 'You are a restaurant booking assistant. Answer in one or two short sentences.',
});
