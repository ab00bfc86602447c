/**
 * The part both sinks share: writes go into a PassThrough that a consumer (a file stream, an S3
 * upload) drains at its own pace. The PassThrough's buffered bytes are the sink's pending bytes;
 * they are checked against the bound before every write, so a stalled consumer fails the
 * recording (RecordingOverflowError) rather than growing memory. Consumers buffer a bounded
 * amount of their own on top (a file stream's 16 KiB highWaterMark, one S3 part).
 */
import { PassThrough, type Readable } from 'node:stream';
import {
  DEFAULT_MAX_PENDING_BYTES,
  RecordingAbortedError,
  RecordingOverflowError,
  sinkFailureCounts,
  type RecordingSink,
  type SinkFailureKind,
  type SinkResult,
} from './sink.ts';

export interface StreamSinkTarget {
  readonly uri: string;
  /** Starts draining `body`; resolves when everything is stored, rejects on an I/O error. */
  consume(body: Readable): Promise<void>;
  /**
   * Removes whatever was stored, after a failure or abort (the body is destroyed by then). Runs
   * at once: it waits for its own consumer to settle first. May reject; errors are ignored.
   */
  discard(): Promise<void>;
}

export class StreamSink implements RecordingSink {
  readonly uri: string;
  readonly maxPendingBytes: number;
  readonly #body = new PassThrough();
  readonly #target: StreamSinkTarget;
  readonly #consumed: Promise<void>;
  #bytes = 0;
  #failed: Error | undefined;
  #discarded: Promise<void> | undefined;
  #closing = false;
  /** The consumer finished successfully: an abort can no longer undo the recording. */
  #stored = false;

  constructor(target: StreamSinkTarget, maxPendingBytes: number = DEFAULT_MAX_PENDING_BYTES) {
    if (!(maxPendingBytes > 0)) throw new RangeError(`bad pending bound ${maxPendingBytes}`);
    this.uri = target.uri;
    this.maxPendingBytes = maxPendingBytes;
    this.#target = target;
    // The body errors only when we destroy it; the failure is already recorded then.
    this.#body.on('error', () => {});
    this.#consumed = Promise.resolve()
      .then(() => target.consume(this.#body))
      .then(() => {
        this.#stored = true;
      })
      .catch((err: unknown) => {
        this.#fail('io', err instanceof Error ? err : new Error(String(err)));
        throw this.#failed;
      });
    this.#consumed.catch(() => {}); // observed in close(); never an unhandled rejection
  }

  get failed(): Error | undefined {
    return this.#failed;
  }

  /** Bytes accepted so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Bytes written but not yet taken by the consumer. */
  get pendingBytes(): number {
    return this.#body.writableLength + this.#body.readableLength;
  }

  write(chunk: Uint8Array): void {
    // After close() the stream is ended: a late chunk is dropped rather than failing (and so
    // deleting) a recording that is complete.
    if (this.#failed || this.#closing) return;
    const pending = this.pendingBytes;
    if (pending + chunk.length > this.maxPendingBytes) {
      this.#fail(
        'overflow',
        new RecordingOverflowError(
          `recording ${this.uri} failed: ${pending + chunk.length} bytes pending exceeds the ${this.maxPendingBytes}-byte bound (storage too slow or stalled)`,
        ),
      );
      return;
    }
    this.#bytes += chunk.length;
    this.#body.write(chunk);
  }

  async close(): Promise<SinkResult> {
    if (!this.#closing && !this.#failed) {
      this.#closing = true;
      this.#body.end();
    }
    this.#closing = true;
    try {
      await this.#consumed;
    } catch {
      // recorded in #failed
    }
    if (this.#failed) {
      await this.#discarded;
      throw this.#failed;
    }
    return { uri: this.uri, bytes: this.#bytes };
  }

  abort(reason: Error | string): void {
    const err = typeof reason === 'string' ? new RecordingAbortedError(`recording ${this.uri} aborted: ${reason}`) : reason;
    this.#fail('aborted', err);
  }

  #fail(kind: SinkFailureKind, err: Error): void {
    if (this.#failed || this.#stored) return; // a stored recording is kept
    this.#failed = err;
    sinkFailureCounts[kind]++;
    this.#body.destroy(err);
    this.#discarded = Promise.resolve()
      .then(() => this.#target.discard())
      .catch(() => {});
  }
}
