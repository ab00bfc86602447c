/**
 * Where a recording's bytes go. The contract every sink keeps:
 * - `write` never blocks and never throws: it queues the chunk. Queued bytes are bounded
 *   (`maxPendingBytes`, default 4 MiB, about 17 minutes of 32 kbps Opus): past the bound the
 *   recording fails with a RecordingOverflowError instead of growing without limit.
 * - A failed or aborted sink drops further writes, leaves nothing behind (partial file removed,
 *   multipart upload aborted) and its `close()` rejects with the reason (`failed`).
 * - `close()` resolves once the bytes are durable (file closed, upload completed).
 */

export interface SinkResult {
  readonly uri: string;
  readonly bytes: number;
}

export interface RecordingSink {
  /** Queues bytes; never blocks, never throws. */
  write(chunk: Uint8Array): void;
  /** Ends the recording; resolves when stored, rejects with `failed` otherwise. */
  close(): Promise<SinkResult>;
  /** Gives up: drops queued bytes and removes what was stored. Safe to call at any time. */
  abort(reason: Error | string): void;
  /** Set once the sink failed or was aborted. */
  readonly failed?: Error | undefined;
}

/** Creates the sink for one track of a session. */
export type SinkFactory = (track: string) => RecordingSink;

export const DEFAULT_MAX_PENDING_BYTES = 4 * 1024 * 1024;

export class RecordingOverflowError extends Error {
  override readonly name = 'RecordingOverflowError';
}

export class RecordingAbortedError extends Error {
  override readonly name = 'RecordingAbortedError';
}

export type SinkFailureKind = 'overflow' | 'io' | 'aborted';

/**
 * Sink failures by kind since process start, for metrics export (plain counters: this module
 * registers no metrics itself).
 */
export const sinkFailureCounts: Record<SinkFailureKind, number> = { overflow: 0, io: 0, aborted: 0 };

/** Session ids and track names become path segments and S3 key parts: keep them plain. */
export const SAFE_NAME = /^[A-Za-z0-9_-]{1,80}$/;

export function checkSafeName(what: string, name: string): void {
  if (!SAFE_NAME.test(name)) throw new RangeError(`${what} ${JSON.stringify(name)} must match ${SAFE_NAME.source}`);
}
