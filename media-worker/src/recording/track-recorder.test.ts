import { beforeAll, describe, expect, it } from 'vitest';
import { audioFrame, type AudioFrame } from '../audio/frame.ts';
import { rms } from '../audio/pcm.ts';
import { initResampler, resampleOnce } from '../audio/resampler.ts';
import { bestLag, correlation, decodeOggOpus } from './decode.test-helper.ts';
import { MemorySink } from './memory-sink.test-helper.ts';
import { TrackRecorder } from './track-recorder.ts';

beforeAll(async () => {
  await initResampler();
});

function tone(hz: number, rate: number, seconds: number, amp = 8000): Int16Array {
  return Int16Array.from({ length: Math.round(rate * seconds) }, (_, i) => Math.round(amp * Math.sin((2 * Math.PI * hz * i) / rate)));
}

/** Linear chirp f0 -> f1 Hz over the buffer. */
function chirp(f0: number, f1: number, rate: number, seconds: number, amp = 8000): Int16Array {
  const n = Math.round(rate * seconds);
  return Int16Array.from({ length: n }, (_, i) => {
    const t = i / rate;
    return Math.round(amp * Math.sin(2 * Math.PI * (f0 * t + ((f1 - f0) * t * t) / (2 * seconds))));
  });
}

/** Pushes `samples` in `frameMs` frames, as the media tick does. */
function pushAll(rec: TrackRecorder, samples: Int16Array, rate: number, frameMs = 20): void {
  const n = Math.round((rate * frameMs) / 1000);
  for (let at = 0; at < samples.length; at += n) rec.push(audioFrame(samples.subarray(at, at + n), rate));
}

async function record(samples: Int16Array, rate: number, options: ConstructorParameters<typeof TrackRecorder>[1] = {}, frameMs = 20) {
  const sink = new MemorySink();
  const rec = new TrackRecorder(sink, options);
  pushAll(rec, samples, rate, frameMs);
  const result = await rec.close();
  return { sink, result };
}

describe('TrackRecorder', () => {
  it.each([8000, 16000, 48000])('records a 440 Hz tone at %i Hz that decodes to the same length and waveform', async (rate) => {
    const input = tone(440, rate, 2);
    const { sink, result } = await record(input, rate);
    expect(result).toEqual({ uri: 'memory://track', bytes: sink.bytes().length, durationMs: 2000 });
    const { pcm, file } = decodeOggOpus(sink.bytes(), rate);
    expect(file.head.inputSampleRate).toBe(rate);
    expect(file.head.preSkip).toBe(312); // libopus voip lookahead: 2.5 ms + 4 ms at 48 kHz
    // End trimming makes the playable audio exactly the input: no pre-skip delay, no padding.
    expect(pcm.samples.length).toBe(input.length);
    // Aligned by pre-skip alone (lag 0); skip the first 20 ms where the encoder ramps up.
    expect(correlation(input, pcm.samples, 0, rate / 50, input.length)).toBeGreaterThan(0.9);
    expect(rms(pcm)).toBeGreaterThan(0.5 * rms(audioFrame(input, rate)));
    // 100 packets + 1 that pushes the lookahead out: pages of 1 s, then the EOS page.
    expect(file.pages.map((p) => p.granule)).toEqual([0n, 0n, 48000n, 96000n, 96312n]);
    expect(file.audio.length).toBe(101);
  });

  it('resamples explicitly: a 48 kHz chirp encoded at 16 kHz matches the resampled input', async () => {
    const input = chirp(200, 6000, 48000, 1.5);
    const { sink, result } = await record(input, 48000, { encodeRate: 16000 });
    expect(result.durationMs).toBe(1500);
    const { pcm, file } = decodeOggOpus(sink.bytes(), 16000);
    expect(file.head.inputSampleRate).toBe(48000);
    const reference = (await resampleOnce(audioFrame(input, 48000), 16000)).samples;
    expect(pcm.samples.length).toBe(reference.length);
    const { lag, r } = bestLag(reference, pcm.samples, 8, 320, reference.length - 8);
    expect(Math.abs(lag)).toBeLessThanOrEqual(1);
    expect(r).toBeGreaterThan(0.9);
  });

  it('takes odd frame sizes at a non-Opus rate (44.1 kHz -> 48 kHz) and pads the last partial frame', async () => {
    const input = chirp(300, 3000, 44100, 1.013);
    const { sink, result } = await record(input, 44100, {}, 10);
    expect(result.durationMs).toBeCloseTo((input.length / 44100) * 1000, 6);
    const { pcm, file } = decodeOggOpus(sink.bytes(), 48000);
    expect(file.head.inputSampleRate).toBe(44100);
    const reference = (await resampleOnce(audioFrame(input, 44100), 48000)).samples;
    expect(pcm.samples.length).toBe(reference.length);
    expect(bestLag(reference, pcm.samples, 8, 960, reference.length - 8).r).toBeGreaterThan(0.9);
  });

  it('keeps silence silent', async () => {
    const { sink } = await record(new Int16Array(16000), 16000);
    const { pcm } = decodeOggOpus(sink.bytes(), 16000);
    expect(pcm.samples.length).toBe(16000);
    expect(Math.max(...pcm.samples.map(Math.abs))).toBeLessThanOrEqual(2);
  });

  it('down-mixes stereo, and a recording without frames is a valid empty file', async () => {
    const stereo = new Int16Array(960 * 2).fill(1000);
    const sink = new MemorySink();
    const rec = new TrackRecorder(sink);
    rec.push(audioFrame(stereo, 48000, 2));
    expect((await rec.close()).durationMs).toBe(20);
    expect(decodeOggOpus(sink.bytes(), 48000).file.head.channels).toBe(1);

    const empty = new MemorySink();
    const r = await new TrackRecorder(empty).close();
    expect(r.durationMs).toBe(0);
    const { pcm, file } = decodeOggOpus(empty.bytes(), 48000);
    expect(pcm.samples.length).toBe(0);
    expect(file.head.inputSampleRate).toBe(0);
  });

  it('a failed sink stops encoding, push does not throw, close rejects with the reason', async () => {
    const sink = new MemorySink();
    const rec = new TrackRecorder(sink);
    const frame: AudioFrame = audioFrame(tone(440, 16000, 0.02), 16000);
    rec.push(frame);
    sink.abort(new Error('disk gone'));
    const before = sink.chunks.length;
    expect(() => rec.push(frame)).not.toThrow();
    expect(sink.chunks.length).toBe(before);
    await expect(rec.close()).rejects.toThrow('disk gone');
    expect(rec.failed?.message).toBe('disk gone');
  });

  it('an encoder error fails the track instead of throwing into the tick', async () => {
    // A frame with rate 0 (bypassing audioFrame's checks) makes the Reframer throw.
    const sink = new MemorySink();
    const rec = new TrackRecorder(sink);
    expect(() => rec.push({ samples: new Int16Array(3), sampleRate: 0, channels: 1 })).not.toThrow();
    expect(rec.failed).toBeInstanceOf(Error);
    await expect(rec.close()).rejects.toThrow();
  });

  it('rejects bad comments at construction, not on the first tick', () => {
    expect(() => new TrackRecorder(new MemorySink(), { comments: ['oops'] })).toThrow(/KEY=value/);
  });

  it('measures encode cost (CPU µs per second of audio, logged, not asserted)', () => {
    const seconds = 20;
    const configs = [[8000, 9], [16000, 9], [48000, 9], [16000, 5], [48000, 5]] as const;
    const inputs = new Map(configs.map(([rate]) => [rate, chirp(200, 3000, rate, seconds)]));
    const run = (rate: number, complexity: number): number => {
      const rec = new TrackRecorder(new MemorySink(), { complexity });
      const t0 = process.cpuUsage();
      pushAll(rec, inputs.get(rate as 8000)!, rate);
      const used = process.cpuUsage(t0);
      void rec.close();
      return (used.user + used.system) / seconds;
    };
    for (const [rate, complexity] of configs) run(rate, complexity); // warm-up (JIT, native load)
    for (const [rate, complexity] of configs) {
      const runs = [run(rate, complexity), run(rate, complexity), run(rate, complexity)].sort((a, b) => a - b);
      console.log(`recording.bench: ${rate} Hz, complexity ${complexity}: ${runs[1]!.toFixed(0)} CPU µs per second of audio (median of 3)`);
    }
  });
});
