/**
 * Waiting for queued reply audio to be played out (`reply.end` is sent only once the caller has
 * heard the whole reply). The transport paces audio itself and only reports `queuedMs()`, so this
 * polls: it sleeps for what is queued (at most `maxStepMs`, so a transport whose clock runs
 * differently is re-read soon) and stops early, without leaving a timer, when `signal` aborts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { MediaTransport } from '../transport/types.ts';

/** Resolves true once `queuedMs()` is 0, or false if `signal` aborted first. */
export async function waitForPlayout(
  transport: Pick<MediaTransport, 'queuedMs'>,
  signal: AbortSignal,
  maxStepMs = 100,
): Promise<boolean> {
  for (;;) {
    if (signal.aborted) return false;
    const queued = transport.queuedMs();
    if (!(queued > 0)) return true;
    try {
      await sleep(Math.max(1, Math.min(queued, maxStepMs)), undefined, { signal });
    } catch {
      return false; // aborted: the sleep's timer is already cleared by node
    }
  }
}
