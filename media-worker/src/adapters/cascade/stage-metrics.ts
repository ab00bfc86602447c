/** The `metrics.stages` event of a cascade turn, from the stage times its reply marked. */
import type { StageMetrics } from '@switchboard/protocol';

/** Epoch ms of each stage of the turn. */
export interface StageMarks {
  /** The end of the caller's speech, as the STT placed it in the audio it was sent (when it says). */
  speechEndAt?: number;
  finalAt?: number;
  llmRequestAt?: number;
  firstTokenAt?: number;
  firstSentenceAt?: number;
  ttsRequestAt?: number;
  firstAudioAt?: number;
  firstFrameAt?: number;
}

/** The turn's stage metrics, when it had every stage (an LLM reply that reached the output). */
export function stageMetrics(turn: number, m: StageMarks): StageMetrics | undefined {
  const { speechEndAt, finalAt, llmRequestAt, firstTokenAt, firstSentenceAt, ttsRequestAt, firstAudioAt, firstFrameAt } = m;
  if (finalAt === undefined || llmRequestAt === undefined || firstTokenAt === undefined || firstSentenceAt === undefined) return undefined;
  if (ttsRequestAt === undefined || firstAudioAt === undefined || firstFrameAt === undefined) return undefined;
  const r = (ms: number): number => Math.round(ms * 1000) / 1000;
  return {
    type: 'metrics.stages',
    turn,
    ...(speechEndAt !== undefined && finalAt >= speechEndAt && { sttFinalMs: r(finalAt - speechEndAt) }),
    sttToLlmMs: r(llmRequestAt - finalAt),
    llmFirstTokenMs: r(firstTokenAt - llmRequestAt),
    sentenceToTtsMs: r(ttsRequestAt - firstSentenceAt),
    ttsFirstAudioMs: r(firstAudioAt - ttsRequestAt),
    ttsToOutputMs: r(firstFrameAt - firstAudioAt),
    totalMs: r(firstFrameAt - finalAt),
  };
}
