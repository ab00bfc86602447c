import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  S3Client,
  type ServerSideEncryption,
} from '@aws-sdk/client-s3';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audioFrame } from '../audio/frame.ts';
import { initResampler } from '../audio/resampler.ts';
import { decodeOggOpus } from './decode.test-helper.ts';
import { S3Sink } from './s3-sink.ts';
import { TrackRecorder } from './track-recorder.ts';

const BUCKET = 'recordings-test';
let server: FauxqsServer;
let client: S3Client;
/** Names of the S3 commands `client` sent, in order. */
const sent: string[] = [];

beforeAll(async () => {
  await initResampler();
  server = await startFauxqs({ port: 0, logger: false });
  client = new S3Client({
    endpoint: server.address,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push(context.commandName ?? '?');
      return next(args);
    },
    { step: 'initialize' },
  );
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
afterAll(async () => {
  client?.destroy();
  await server?.stop();
});

async function getObject(key: string): Promise<{ bytes: Uint8Array; contentType: string | undefined }> {
  const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return { bytes: await out.Body!.transformToByteArray(), contentType: out.ContentType };
}

async function exists(key: string): Promise<boolean> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    return true;
  } catch (err) {
    if ((err as { name?: string }).name === 'NotFound') return false;
    throw err;
  }
}

/** Writes `total` bytes of a known pattern through the sink, pacing on its pending bytes. */
async function writePaced(sink: S3Sink, total: number, chunk = 64 * 1024): Promise<Uint8Array> {
  const data = Uint8Array.from({ length: total }, (_, i) => (i * 31 + (i >> 12)) & 0xff);
  for (let at = 0; at < total; ) {
    if (sink.pendingBytes > 1024 * 1024) {
      await new Promise((r) => setTimeout(r, 2));
      continue;
    }
    sink.write(data.subarray(at, at + chunk));
    at += chunk;
  }
  return data;
}

describe('S3Sink (fauxqs)', () => {
  it('uploads a recording to recordings/{sessionId}/{track}.ogg as audio/ogg, which decodes', async () => {
    const sse: ServerSideEncryption = 'AES256';
    const sink = new S3Sink({ client, bucket: BUCKET, sessionId: 'sess-s3', track: 'leg-1', serverSideEncryption: sse });
    const rec = new TrackRecorder(sink);
    const input = Int16Array.from({ length: 16000 * 2 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 16000)));
    for (let at = 0; at < input.length; at += 320) rec.push(audioFrame(input.subarray(at, at + 320), 16000));
    const result = await rec.close();
    expect(result.uri).toBe(`s3://${BUCKET}/recordings/sess-s3/leg-1.ogg`);
    const { bytes, contentType } = await getObject('recordings/sess-s3/leg-1.ogg');
    expect(contentType).toBe('audio/ogg');
    expect(bytes.length).toBe(result.bytes);
    expect(decodeOggOpus(bytes, 16000).pcm.samples.length).toBe(input.length);
  });

  it('streams more than one 5 MiB part as a multipart upload', async () => {
    sent.length = 0;
    const sink = new S3Sink({ client, bucket: BUCKET, sessionId: 'sess-big', track: 'mix' });
    const data = await writePaced(sink, 11 * 1024 * 1024 + 123);
    const result = await sink.close();
    expect(result.bytes).toBe(data.length);
    expect(sent.filter((c) => c === 'UploadPartCommand').length).toBe(3);
    expect(sent).toContain('CompleteMultipartUploadCommand');
    const { bytes } = await getObject('recordings/sess-big/mix.ogg');
    expect(bytes.length).toBe(data.length);
    expect(Buffer.compare(Buffer.from(bytes), Buffer.from(data))).toBe(0);
  });

  it('abort mid-multipart leaves no object and aborts the upload', async () => {
    sent.length = 0;
    const sink = new S3Sink({ client, bucket: BUCKET, sessionId: 'sess-abort', track: 'mix' });
    await writePaced(sink, 7 * 1024 * 1024); // part 1 goes out; part 2 is still filling
    for (let i = 0; i < 200 && !sent.includes('UploadPartCommand'); i++) await new Promise((r) => setTimeout(r, 5));
    expect(sent).toContain('CreateMultipartUploadCommand');
    sink.abort('caller hung up');
    await expect(sink.close()).rejects.toThrow(/aborted: caller hung up/);
    expect(sent).toContain('AbortMultipartUploadCommand');
    expect(sent).not.toContain('CompleteMultipartUploadCommand');
    expect(await exists('recordings/sess-abort/mix.ogg')).toBe(false);
  });

  it('abort of a small recording sends nothing', async () => {
    sent.length = 0;
    const sink = new S3Sink({ client, bucket: BUCKET, sessionId: 'sess-abort2', track: 'mix' });
    sink.write(new Uint8Array(5000));
    sink.abort(new Error('stop'));
    await expect(sink.close()).rejects.toThrow('stop');
    expect(sent).toEqual([]);
    expect(await exists('recordings/sess-abort2/mix.ogg')).toBe(false);
  });

  it('rejects part sizes below S3 minimum via lib-storage', async () => {
    const sink = new S3Sink({ client, bucket: BUCKET, sessionId: 's', track: 'mix', partSize: 1024 });
    sink.write(new Uint8Array(10));
    await expect(sink.close()).rejects.toThrow(/EntityTooSmall|smaller than the minimum/);
  });
});
