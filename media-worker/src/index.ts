/**
 * The public API for handler authors: what a user's handler module imports.
 *
 *   import { replyOnPause } from '@switchboard/media-worker';
 *   export default replyOnPause(async function* (turn) { yield turn; });
 */
export { replyOnPause, REPLY_ON_PAUSE_DEFAULTS } from './handlers/reply-on-pause.ts';
export { stream, STREAM_DEFAULTS } from './handlers/stream.ts';
export { isHandler } from './handlers/load.ts';
export type {
  Handler,
  HandlerContext,
  ReplyChunk,
  ReplyOnPauseOptions,
  SessionInfo,
  StreamFn,
  StreamOptions,
  TurnFn,
} from './handlers/types.ts';
export { audioFrame, durationMs, isAudioFrame, sampleCount, type AudioFrame } from './audio/frame.ts';
export { concatFrames, float32ToInt16, int16ToFloat32, readWav, rms, silence, toMono, writeWav } from './audio/pcm.ts';
export { StreamResampler, resampleOnce } from './audio/resampler.ts';
export { say, FliteBusyError, FLITE_VOICE_NAMES, type FliteVoice, type SayOptions } from './voice/say.ts';
export type { ChannelMessage } from '@switchboard/protocol';
