import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audioFrame } from '../audio/frame.ts';
import { initResampler } from '../audio/resampler.ts';
import { decodeOggOpus } from './decode.test-helper.ts';
import { LocalFolderSink } from './local-folder-sink.ts';
import { RecordingOverflowError, sinkFailureCounts } from './sink.ts';
import { TrackRecorder } from './track-recorder.ts';

let dir: string;
beforeAll(async () => {
  await initResampler();
  dir = mkdtempSync(join(tmpdir(), 'recording-sink-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A file stream that never completes a write: storage hung. */
function stalledStream(): Writable {
  return new Writable({ write: () => {} });
}

function tone(rate: number, seconds: number): Int16Array {
  return Int16Array.from({ length: rate * seconds }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)));
}

describe('LocalFolderSink', () => {
  it('writes {dir}/{sessionId}/{track}.ogg, creating the folders, and returns a file:// uri', async () => {
    const sink = new LocalFolderSink({ dir, sessionId: 'sess_1', track: 'leg-a' });
    const rec = new TrackRecorder(sink);
    const input = tone(16000, 1);
    for (let at = 0; at < input.length; at += 320) rec.push(audioFrame(input.subarray(at, at + 320), 16000));
    const result = await rec.close();
    const path = join(dir, 'sess_1', 'leg-a.ogg');
    expect(result.uri).toBe(`file://${path}`);
    expect(fileURLToPath(result.uri)).toBe(path);
    expect(statSync(path).size).toBe(result.bytes);
    expect(decodeOggOpus(readFileSync(path), 16000).pcm.samples.length).toBe(16000);
  });

  it('fails cleanly past the pending bound when the stream stalls: no throw, no unbounded memory', async () => {
    const overflowsBefore = sinkFailureCounts.overflow;
    const sink = new LocalFolderSink({ dir, sessionId: 'sess_2', track: 'mix', maxPendingBytes: 8192, openStream: stalledStream });
    const rec = new TrackRecorder(sink);
    const input = tone(48000, 30);
    let maxPending = 0;
    expect(() => {
      for (let at = 0; at < input.length; at += 960) {
        rec.push(audioFrame(input.subarray(at, at + 960), 48000));
        maxPending = Math.max(maxPending, sink.pendingBytes);
      }
    }).not.toThrow();
    await new Promise((r) => setImmediate(r)); // let the pipeline start draining into the stall
    expect(rec.failed).toBeInstanceOf(RecordingOverflowError);
    expect(rec.failed?.message).toMatch(/exceeds the 8192-byte bound/);
    expect(maxPending).toBeLessThanOrEqual(8192);
    expect(sink.bytes).toBeLessThan(120_000); // 30 s at 32 kbps is ~120 kB: writing stopped early
    expect(sinkFailureCounts.overflow).toBe(overflowsBefore + 1);
    await expect(rec.close()).rejects.toBeInstanceOf(RecordingOverflowError);
    expect(existsSync(join(dir, 'sess_2', 'mix.ogg'))).toBe(false);
  });

  it('abort removes the partial file and close rejects with the reason', async () => {
    const sink = new LocalFolderSink({ dir, sessionId: 'sess_3', track: 'mix' });
    sink.write(new Uint8Array(1000).fill(7));
    const path = join(dir, 'sess_3', 'mix.ogg');
    for (let i = 0; i < 100 && !(existsSync(path) && statSync(path).size === 1000); i++) await new Promise((r) => setTimeout(r, 5));
    expect(statSync(path).size).toBe(1000);
    sink.abort('session cancelled');
    sink.write(new Uint8Array(10)); // dropped, no throw
    await expect(sink.close()).rejects.toThrow(/aborted: session cancelled/);
    expect(existsSync(path)).toBe(false);
  });

  it('an I/O error (folder path is a file) fails the sink, counted', async () => {
    const ioBefore = sinkFailureCounts.io;
    writeFileSync(join(dir, 'not-a-dir'), 'x');
    const sink = new LocalFolderSink({ dir: join(dir, 'not-a-dir'), sessionId: 's', track: 'mix' });
    sink.write(new Uint8Array(10));
    await expect(sink.close()).rejects.toThrow(/ENOTDIR|EEXIST/);
    expect(sinkFailureCounts.io).toBe(ioBefore + 1);
  });

  it('rejects session ids and track names unsafe for paths', () => {
    expect(() => new LocalFolderSink({ dir, sessionId: '../etc', track: 'mix' })).toThrow(/session id/);
    expect(() => new LocalFolderSink({ dir, sessionId: 's', track: 'a/b' })).toThrow(/track name/);
  });
});
