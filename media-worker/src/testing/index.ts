/**
 * `@switchboard/media-worker/testing`: run a handler through the worker's real pipeline
 * (Silero VAD, turn detection, the reply runner) in-process, from a test.
 *
 *   import { runTurn, speech } from '@switchboard/media-worker/testing';
 *   const { audio, events } = await runTurn(handler, await speech('Hello there'));
 */
export { runTurn, type RunTurnOptions, type TurnResult } from './run-turn.ts';
export { speech, type SpeechOptions } from './speech.ts';
export { RecordingTransport } from './recording-transport.ts';
