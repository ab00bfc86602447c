/**
 * Recording sink writing `{dir}/{sessionId}/{track}.ogg` on the local file system (development,
 * single-host deployments, tests). The directory is created asynchronously, so constructing the
 * sink does no blocking I/O; bytes written meanwhile wait in the bounded buffer.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { checkSafeName, type SinkFactory } from './sink.ts';
import { StreamSink } from './stream-sink.ts';

export interface LocalFolderSinkOptions {
  /** Root folder; recordings go to `{dir}/{sessionId}/{track}.ogg`. */
  readonly dir: string;
  readonly sessionId: string;
  readonly track: string;
  /** Pending-bytes bound (default DEFAULT_MAX_PENDING_BYTES). */
  readonly maxPendingBytes?: number;
  /** Opens the file stream; default fs.createWriteStream. Tests inject a stalled stream. */
  readonly openStream?: (path: string) => Writable;
}

export class LocalFolderSink extends StreamSink {
  readonly path: string;

  constructor(options: LocalFolderSinkOptions) {
    checkSafeName('session id', options.sessionId);
    checkSafeName('track name', options.track);
    const folder = join(resolve(options.dir), options.sessionId);
    const path = join(folder, `${options.track}.ogg`);
    const open = options.openStream ?? ((p: string) => createWriteStream(p));
    let written: Promise<void> = Promise.resolve();
    super(
      {
        uri: pathToFileURL(path).href,
        consume: (body: Readable) => {
          written = (async () => {
            await mkdir(folder, { recursive: true });
            await pipeline(body, open(path));
          })();
          return written;
        },
        discard: async () => {
          await written.catch(() => {});
          await rm(path, { force: true });
        },
      },
      options.maxPendingBytes,
    );
    this.path = path;
  }
}

/** Sink factory for one session's tracks under `dir`. */
export function localFolderSinkFactory(options: Omit<LocalFolderSinkOptions, 'track'>): SinkFactory {
  checkSafeName('session id', options.sessionId);
  return (track) => new LocalFolderSink({ ...options, track });
}
