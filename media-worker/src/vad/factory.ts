import type { VadFactory } from '../pipeline/session-pipeline.ts';
import { SileroModel } from './silero-model.ts';
import { StreamingVad } from './streaming-vad.ts';

/** Loads the Silero model once per process; each session gets its own stream (state, context). */
export async function createVadFactory(modelPath?: string): Promise<VadFactory> {
  const model = await SileroModel.load(modelPath);
  return () => new StreamingVad(model.createStream());
}
