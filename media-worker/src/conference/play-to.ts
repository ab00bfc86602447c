/**
 * Plays a stream of audio into one output and resolves with what its listener heard: the frames
 * are pushed as they come, with backpressure (at most AHEAD_MS queued ahead of playback), and the
 * segment is finished at the end; an abort clears what is queued instead.
 */
import type { AudioFrame } from '../audio/frame.ts';
import type { PlayoutOutput, SegmentResult } from '../audio/playout/types.ts';

/** Audio queued ahead to one output before playTo waits for room. */
const AHEAD_MS = 2000;

export async function playTo(
  out: PlayoutOutput,
  audio: AsyncIterable<AudioFrame> | Iterable<AudioFrame>,
  o: { signal?: AbortSignal; stopped?: () => boolean } = {},
): Promise<SegmentResult> {
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const frame of audio) {
      if (stop.signal.aborted || o.stopped?.()) break;
      out.push(frame);
      if (out.queuedMs() > AHEAD_MS && !(await out.whenQueuedAtMost(AHEAD_MS / 2, stop.signal))) break;
    }
    if (stop.signal.aborted) return out.clear();
    return await out.finish();
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
}
