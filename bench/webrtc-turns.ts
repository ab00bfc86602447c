import { readFileSync } from 'node:fs';
import { readWav } from '../media-worker/src/audio/pcm.ts';
import { RtcTestClient } from '../test/support/rtc-client.ts';
import { summary } from './stack/percentiles.ts';

/** The two-phrase fixture: phrase 1 at 500-2933 ms, phrase 2 at 4133-5269 ms of the recording. */
const PHRASE_1_END_MS = 2933;
const PHRASE_2_ONSET_MS = 4133;
const speech = readWav(readFileSync(new URL('../test/fixtures/audio/hello-pause-question.wav', import.meta.url)));

export interface WebRtcTurnResult {
  calls: number;
  /**
   * End of phrase 1 leaving the client -> first reply packet arriving, minus the silence the turn
   * detector waits for. Phrase 1's end is its label (2933 ms into the recording) after the first
   * packet left; the detector dates silence from where the energy fell, up to 20 ms before it.
   */
  turnMinusSilence: ReturnType<typeof summary>;
  /**
   * End of phrase 1 leaving the client -> the worker sending the first reply packet, minus the
   * silence: the platform's own cost without the trip back. Worker and client share the host's
   * clock; the send time is the worker's `vad.end` time plus its `metrics` endOfSpeechToFirstFrameMs.
   */
  toLeavingWorkerMinusSilence: ReturnType<typeof summary>;
  /** The worker's own share: its VAD's end-of-turn decision -> first reply packet sent (its `metrics` event). */
  decisionToFirstPacket: ReturnType<typeof summary>;
  /** Onset of phrase 2 leaving the client -> the last packet of the interrupted reply arriving. */
  bargeIn: ReturnType<typeof summary>;
  failures: string[];
  /** Every call's samples, in call order, for reading the tail. */
  samples: { turn: number[]; leaving: number[]; decision: number[]; bargeIn: number[] };
}

const rms = (s: Int16Array) => {
  let acc = 0;
  for (const v of s) acc += v * v;
  return Math.sqrt(acc / Math.max(1, s.length));
};

/**
 * Turn latency and barge-in over WebRTC through the whole stack: `calls` sequential werift calls
 * play the two-phrase fixture in real time to a handler answering each turn with 3 s of tone
 * (test/fixtures/handlers/phone-tone.ts), so phrase 2 barges in on the first reply.
 */
export async function measureWebRtcTurns(edgeUrl: string, calls: number, silenceMs: number): Promise<WebRtcTurnResult> {
  const turn: number[] = [];
  const leaving: number[] = [];
  const decision: number[] = [];
  const bargeIn: number[] = [];
  const failures: string[] = [];
  for (let i = 0; i < calls; i++) {
    const c = await RtcTestClient.connect(edgeUrl);
    try {
      // The fixture's time 0 is when its first packet left (play() resamples it to 48 kHz first).
      const start = await c.play(speech);
      await c.silence(1500);
      const loud = c.received.filter((r) => rms(r.frame.samples) > 1000).map((r) => r.at);
      const phrase1End = start + PHRASE_1_END_MS;
      const phrase2Onset = start + PHRASE_2_ONSET_MS;
      const first = loud.find((t) => t > phrase1End);
      const lastOfReply = loud.filter((t) => t < phrase2Onset + 1500).at(-1);
      if (first === undefined || lastOfReply === undefined) {
        failures.push(`call ${i}: no reply heard`);
        continue;
      }
      turn.push(first - phrase1End - silenceMs);
      bargeIn.push(lastOfReply - phrase2Onset);
      const m = c.events.find((e) => e.type === 'metrics');
      const vadEnd = c.events.find((e) => e.type === 'vad.end');
      if (typeof m?.['endOfSpeechToFirstFrameMs'] === 'number') {
        decision.push(m['endOfSpeechToFirstFrameMs']);
        if (typeof vadEnd?.['at'] === 'number') {
          const sentWall = vadEnd['at'] + m['endOfSpeechToFirstFrameMs'];
          leaving.push(sentWall - (performance.timeOrigin + phrase1End) - silenceMs);
        }
      }
    } finally {
      await c.hangup();
    }
  }
  return { calls, turnMinusSilence: summary(turn), toLeavingWorkerMinusSilence: summary(leaving), decisionToFirstPacket: summary(decision), bargeIn: summary(bargeIn), failures, samples: { turn, leaving, decision, bargeIn } };
}
