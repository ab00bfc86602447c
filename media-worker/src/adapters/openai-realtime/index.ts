/** The OpenAI Realtime speech-to-speech adapter's public surface. */
export { openaiRealtime, commitTurn, openaiRealtimeStats } from './openai-realtime.ts';
export type { OpenAIRealtimeOptions, RealtimeTool, TurnDetection } from './options.ts';
export type { RealtimeStats } from './realtime-session.ts';
