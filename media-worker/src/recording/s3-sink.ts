/**
 * Recording sink streaming to S3 key `{keyPrefix}/{sessionId}/{track}.ogg` with lib-storage's
 * multipart Upload over the sink's PassThrough: 5 MiB parts (S3's minimum part size), one part
 * in flight (queueSize 1), so the upload holds at most one part (5 MiB) in memory on top of the
 * sink's pending bound. A recording under 5 MiB (about 21 minutes at 32 kbps) is sent as one
 * PutObject at close; nothing is visible in the bucket before the upload completes.
 *
 * Failure or abort: the body is destroyed, which makes lib-storage abort the multipart upload
 * (AbortMultipartUpload; leavePartsOnError false) before its promise settles. If the upload had
 * already completed (abort racing close), the object is deleted.
 */
import { DeleteObjectCommand, type S3Client, type ServerSideEncryption } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import { checkSafeName, type SinkFactory } from './sink.ts';
import { StreamSink } from './stream-sink.ts';

export const S3_PART_SIZE = 5 * 1024 * 1024;

export interface S3SinkOptions {
  /** Injected client: region, credentials, endpoint and forcePathStyle are configured there. */
  readonly client: S3Client;
  readonly bucket: string;
  readonly sessionId: string;
  readonly track: string;
  /** Default 'recordings'. */
  readonly keyPrefix?: string;
  /** e.g. 'AES256' or 'aws:kms'; omitted: the bucket's default encryption applies. */
  readonly serverSideEncryption?: ServerSideEncryption;
  /** KMS key for 'aws:kms'. */
  readonly sseKmsKeyId?: string;
  /** Pending-bytes bound (default DEFAULT_MAX_PENDING_BYTES). */
  readonly maxPendingBytes?: number;
  /** Multipart part size; at least 5 MiB (lib-storage rejects less). Default 5 MiB. */
  readonly partSize?: number;
}

export class S3Sink extends StreamSink {
  readonly bucket: string;
  readonly key: string;

  constructor(options: S3SinkOptions) {
    checkSafeName('session id', options.sessionId);
    checkSafeName('track name', options.track);
    const prefix = options.keyPrefix ?? 'recordings';
    const key = `${prefix ? `${prefix.replace(/\/+$/, '')}/` : ''}${options.sessionId}/${options.track}.ogg`;
    const { client, bucket } = options;
    let done: Promise<unknown> | null = null;
    super(
      {
        uri: `s3://${bucket}/${key}`,
        consume: async (body: Readable) => {
          const upload = new Upload({
            client,
            params: {
              Bucket: bucket,
              Key: key,
              Body: body,
              ContentType: 'audio/ogg',
              ...(options.serverSideEncryption ? { ServerSideEncryption: options.serverSideEncryption } : {}),
              ...(options.sseKmsKeyId ? { SSEKMSKeyId: options.sseKmsKeyId } : {}),
            },
            partSize: options.partSize ?? S3_PART_SIZE,
            queueSize: 1,
            leavePartsOnError: false,
          });
          done = upload.done();
          await done;
        },
        discard: async () => {
          if (!done) return; // the upload was never created
          let completed = false;
          try {
            await done;
            completed = true;
          } catch {
            // lib-storage aborted the multipart upload itself (or nothing was created)
          }
          if (completed) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
        },
      },
      options.maxPendingBytes,
    );
    this.bucket = bucket;
    this.key = key;
  }
}

/** Sink factory for one session's tracks in `bucket`. */
export function s3SinkFactory(options: Omit<S3SinkOptions, 'track'>): SinkFactory {
  checkSafeName('session id', options.sessionId);
  return (track) => new S3Sink({ ...options, track });
}
