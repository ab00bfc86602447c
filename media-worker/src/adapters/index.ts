/**
 * `@switchboard/media-worker/adapters`: model services for agents, behind the contracts in
 * types.ts. Imported on their own subpath so a handler that uses none of them loads none of
 * their SDKs.
 *
 *   import { cascade, deepgramStt, openaiChat, elevenlabsTts } from '@switchboard/media-worker/adapters';
 *   export default cascade({ stt: deepgramStt(), llm: openaiChat(), tts: elevenlabsTts({ voiceId }), instructions: '...' });
 */
export { cascade, type CascadeOptions } from './cascade/cascade.ts';
export type { CascadeTool, ToolContext } from './cascade/tools.ts';
export { deepgramStt, type DeepgramSttOptions } from './deepgram/deepgram-stt.ts';
export { openaiChat, type OpenAiChatOptions } from './openai-chat/openai-chat.ts';
export { elevenlabsTts, type ElevenLabsTtsOptions } from './elevenlabs/elevenlabs-tts.ts';
export { cartesiaTts, type CartesiaTtsOptions } from './cartesia/cartesia-tts.ts';
export { TtsProviderError } from './tts-ws/reply-socket.ts';
export { openaiRealtime, commitTurn, type OpenAIRealtimeOptions, type RealtimeTool, type TurnDetection } from './openai-realtime/index.ts';
export {
  AdapterConfigError,
  requireEnv,
  type ChatMessage,
  type LlmChunk,
  type LlmService,
  type SttEvent,
  type SttService,
  type SttSession,
  type ToolCall,
  type ToolDefinition,
  type TtsChunk,
  type TtsService,
  type TtsStream,
  type WordTiming,
} from './types.ts';
