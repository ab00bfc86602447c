/** An in-memory RecordingSink for tests: keeps every chunk, can be made to fail. */
import type { RecordingSink, SinkResult } from './sink.ts';

export class MemorySink implements RecordingSink {
  readonly uri: string;
  readonly chunks: Uint8Array[] = [];
  failed: Error | undefined;
  closed = false;

  constructor(uri = 'memory://track') {
    this.uri = uri;
  }

  write(chunk: Uint8Array): void {
    if (this.failed) return;
    if (this.closed) throw new Error('MemorySink: write after close');
    this.chunks.push(chunk);
  }

  async close(): Promise<SinkResult> {
    this.closed = true;
    if (this.failed) throw this.failed;
    return { uri: this.uri, bytes: this.bytes().length };
  }

  abort(reason: Error | string): void {
    this.failed ??= typeof reason === 'string' ? new Error(reason) : reason;
  }

  bytes(): Uint8Array {
    return Buffer.concat(this.chunks);
  }
}
