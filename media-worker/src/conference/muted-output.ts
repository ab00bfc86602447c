import type { PlayoutOutput, SegmentResult } from '../audio/playout/types.ts';

const NOTHING_HEARD: SegmentResult = { playedMs: 0, interrupted: true };

/**
 * The handler's output while it has left the call (`ctx.legs.leave()`): audio is dropped as it
 * comes, every segment ends unheard, and there is always room (a handler that keeps yielding is
 * not held up, and nothing queues).
 */
export class MutedOutput implements PlayoutOutput {
  push(): void {}
  finish(): Promise<SegmentResult> {
    return Promise.resolve(NOTHING_HEARD);
  }
  clear(): SegmentResult {
    return NOTHING_HEARD;
  }
  queuedMs(): number {
    return 0;
  }
  whenQueuedAtMost(): Promise<boolean> {
    return Promise.resolve(true);
  }
}
