import { describe, expect, it } from 'vitest';
import { loadWorkerConfig } from '../config.ts';
import { LocalFolderSink } from './local-folder-sink.ts';
import { describeRecordingStorage, recordingS3Client, RecordingNotConfiguredError, sinkFactoryFor } from './recording-storage.ts';
import { S3Sink } from './s3-sink.ts';

const config = (env: Record<string, string>) => loadWorkerConfig({ SQS_QUEUE_URL: 'q', ...env });

describe('sinkFactoryFor', () => {
  it('writes to S3 under {prefix}{sessionId}/{track}.ogg when a bucket is set, even with a folder', async () => {
    const c = config({ RECORDING_BUCKET: 'calls', RECORDING_DIR: '/tmp/x', RECORDING_S3_ENDPOINT: 'http://127.0.0.1:1', AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' });
    const sink = sinkFactoryFor(c, 's_1')('mix');
    expect(sink).toBeInstanceOf(S3Sink);
    expect((sink as S3Sink).key).toBe('recordings/s_1/mix.ogg');
    expect((sink as S3Sink).uri).toBe('s3://calls/recordings/s_1/mix.ogg');
    sink.abort('test');
    const nested = sinkFactoryFor(config({ RECORDING_BUCKET: 'calls', RECORDING_PREFIX: 'prod/rec/' }), 's_1')('leg-a') as S3Sink;
    expect(nested.key).toBe('prod/rec/s_1/leg-a.ogg');
    nested.abort('test');
    // One client per configuration, path-style at the configured endpoint.
    expect(recordingS3Client(c)).toBe(recordingS3Client(c));
    expect(recordingS3Client(c).config.forcePathStyle).toBe(true);
    expect(String((await recordingS3Client(c).config.endpoint?.())?.hostname)).toBe('127.0.0.1');
    expect(describeRecordingStorage(c)).toBe('s3://calls/recordings/');
  });

  it('writes to the local folder without a bucket', () => {
    const sink = sinkFactoryFor(config({ RECORDING_DIR: '/tmp/rec' }), 's_2')('leg-b');
    expect(sink).toBeInstanceOf(LocalFolderSink);
    expect((sink as LocalFolderSink).path).toBe('/tmp/rec/s_2/leg-b.ogg');
    sink.abort('test');
  });

  it('says clearly that nothing is configured', () => {
    const c = config({});
    expect(() => sinkFactoryFor(c, 's_3')).toThrow(RecordingNotConfiguredError);
    expect(() => sinkFactoryFor(c, 's_3')).toThrow('recording is not configured: set RECORDING_BUCKET (S3) or RECORDING_DIR (local folder)');
    expect(describeRecordingStorage(c)).toMatch(/^nowhere/);
  });
});
