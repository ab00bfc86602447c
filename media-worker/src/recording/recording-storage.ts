/**
 * Where a session's recording goes, from the worker's configuration: S3 when RECORDING_BUCKET is
 * set (keys `{RECORDING_PREFIX}{sessionId}/{track}.ogg`), else the local folder RECORDING_DIR
 * (`{dir}/{sessionId}/{track}.ogg`), else nothing: `sinkFactoryFor` throws
 * RecordingNotConfiguredError, which the session reports as a failed recording and goes on.
 *
 * One S3 client per configuration object (a process has one), not one per session: the client
 * holds the connection pool and the credential chain.
 */
import { S3Client } from '@aws-sdk/client-s3';
import type { RecordingConfig } from '../config.ts';
import { localFolderSinkFactory } from './local-folder-sink.ts';
import { s3SinkFactory } from './s3-sink.ts';
import type { SinkFactory } from './sink.ts';

export class RecordingNotConfiguredError extends Error {
  override readonly name = 'RecordingNotConfiguredError';
  constructor() {
    super('recording is not configured: set RECORDING_BUCKET (S3) or RECORDING_DIR (local folder)');
  }
}

export type RecordingStorage = { readonly kind: 's3'; readonly bucket: string; readonly prefix: string } | { readonly kind: 'folder'; readonly dir: string } | { readonly kind: 'none' };

/** Which storage the configuration picks (for the start-up log and for tests). */
export function recordingStorage(config: RecordingConfig): RecordingStorage {
  if (config.RECORDING_BUCKET) return { kind: 's3', bucket: config.RECORDING_BUCKET, prefix: config.RECORDING_PREFIX };
  if (config.RECORDING_DIR) return { kind: 'folder', dir: config.RECORDING_DIR };
  return { kind: 'none' };
}

/** Describes the storage in one line, e.g. `s3://bucket/recordings/` or a folder path. */
export function describeRecordingStorage(config: RecordingConfig): string {
  const s = recordingStorage(config);
  if (s.kind === 's3') return `s3://${s.bucket}/${s.prefix}`;
  if (s.kind === 'folder') return s.dir;
  return 'nowhere (neither RECORDING_BUCKET nor RECORDING_DIR is set)';
}

const clients = new WeakMap<RecordingConfig, S3Client>();

/** The S3 client for `config` (made on first use). */
export function recordingS3Client(config: RecordingConfig): S3Client {
  let client = clients.get(config);
  if (!client) {
    const endpoint = config.RECORDING_S3_ENDPOINT;
    client = new S3Client({
      region: config.AWS_REGION,
      // An S3-compatible local store answers at one host: path-style addressing.
      ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
      // Static credentials only when given (local stack); otherwise the default chain (task role).
      ...(config.AWS_ACCESS_KEY_ID && config.AWS_SECRET_ACCESS_KEY
        ? { credentials: { accessKeyId: config.AWS_ACCESS_KEY_ID, secretAccessKey: config.AWS_SECRET_ACCESS_KEY } }
        : {}),
    });
    clients.set(config, client);
  }
  return client;
}

/**
 * The sink factory for one session's tracks. Throws RecordingNotConfiguredError with no storage,
 * and a RangeError for a session id that cannot be a path segment or key part.
 */
export function sinkFactoryFor(config: RecordingConfig, sessionId: string): SinkFactory {
  const s = recordingStorage(config);
  if (s.kind === 's3') {
    // S3Sink trims the prefix's trailing '/' and joins it to the session id with one.
    return s3SinkFactory({ client: recordingS3Client(config), bucket: s.bucket, keyPrefix: s.prefix, sessionId });
  }
  if (s.kind === 'folder') return localFolderSinkFactory({ dir: s.dir, sessionId });
  throw new RecordingNotConfiguredError();
}
