import { Encoder } from '@evan/opus';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { audioFrame, type AudioFrame } from './frame.ts';
import { OpusDecoderStream, OpusEncoderStream } from './opus.ts';
import { concatFrames, readWav, rms, toMono } from './pcm.ts';
import { resampleOnce } from './resampler.ts';

const RATE = 48000;

function sine(hz: number, n: number, amp = 8000, phase0 = 0): Int16Array {
  const a = new Int16Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.round(amp * Math.sin((2 * Math.PI * hz * (phase0 + i)) / RATE));
  return a;
}

/** Normalised cross-correlation of x against y shifted by `lag` (y[i + lag] vs x[i]). */
function correlation(x: Int16Array, y: Int16Array, lag: number, from: number, to: number): number {
  let xy = 0;
  let xx = 0;
  let yy = 0;
  for (let i = from; i < to; i++) {
    const a = x[i]!;
    const b = y[i + lag]!;
    xy += a * b;
    xx += a * a;
    yy += b * b;
  }
  return xy / Math.sqrt(xx * yy);
}

/** Encodes `seconds` of a 440 Hz sine in `frameMs` frames and decodes it again. */
function roundTrip(frameMs: number, seconds: number): { input: Int16Array; output: AudioFrame; lookahead: number } {
  const enc = new OpusEncoderStream({ sampleRate: RATE, channels: 1, bitrate: 32000, fec: true });
  const dec = new OpusDecoderStream(1);
  const n = (RATE * frameMs) / 1000;
  const frames = Math.round((seconds * 1000) / frameMs);
  const input = sine(440, n * frames);
  const out: AudioFrame[] = [];
  for (let k = 0; k < frames; k++) {
    const packet = enc.encode(audioFrame(input.subarray(k * n, (k + 1) * n), RATE));
    expect(packet.length).toBeGreaterThan(0);
    const pcm = dec.decode(packet);
    expect(pcm.samples.length).toBe(n);
    expect(dec.lastPacketDurationMs).toBe(frameMs);
    out.push(pcm);
  }
  return { input, output: concatFrames(out), lookahead: enc.lookahead };
}

/** Repacketizes single-frame packets of one TOC config into one code-3 (multi-frame, VBR) packet. */
function multiFramePacket(packets: readonly Uint8Array[]): Uint8Array {
  const toc = packets[0]![0]!;
  const bytes: number[] = [(toc & 0xfc) | 0x03, 0x80 | packets.length];
  const bodies = packets.map((p) => {
    expect(p[0]! & 0xfc).toBe(toc & 0xfc);
    expect(p[0]! & 0x03).toBe(0);
    return p.subarray(1);
  });
  for (const b of bodies.slice(0, -1)) {
    if (b.length < 252) bytes.push(b.length);
    else bytes.push(252 + (b.length & 3), (b.length - 252 - (b.length & 3)) >> 2);
  }
  for (const b of bodies) bytes.push(...b);
  return Uint8Array.from(bytes);
}

describe('Opus', () => {
  it('round-trips a 440 Hz sine: same duration, correlated after the codec delay, similar level', () => {
    const { input, output, lookahead } = roundTrip(20, 1);
    expect(output.sampleRate).toBe(RATE);
    expect(output.samples.length).toBe(input.length);
    expect(lookahead).toBeGreaterThan(0);
    // The decoded signal lags the input by the encoder's lookahead; search half a period around it.
    let best = -1;
    for (let lag = lookahead - 55; lag <= lookahead + 55; lag++) {
      best = Math.max(best, correlation(input, output.samples, lag, 2400, input.length - 2000));
    }
    expect(best).toBeGreaterThan(0.95);
    const steadyIn = rms(audioFrame(input.subarray(4800), RATE));
    const steadyOut = rms(audioFrame(output.samples.subarray(4800), RATE));
    expect(steadyOut / steadyIn).toBeGreaterThan(0.8);
    expect(steadyOut / steadyIn).toBeLessThan(1.2);
  });

  it.each([10, 20, 40, 60])('encodes and decodes %i ms frames', (ms) => {
    const { input, output } = roundTrip(ms, 0.6);
    expect(output.samples.length).toBe(input.length);
    expect(rms(audioFrame(output.samples.subarray(9600), RATE))).toBeGreaterThan(3000);
  });

  it('restricted_lowdelay encodes CELT-only packets with a shorter lookahead than voip; both decode to the input', () => {
    // TOC configs 16..31 are CELT-only (RFC 6716 section 3.1); 0..15 use SILK.
    const input = sine(300, 960 * 50, 6000);
    const run = (application: 'voip' | 'restricted_lowdelay') => {
      const enc = new OpusEncoderStream({ application, fec: true });
      const dec = new OpusDecoderStream(1);
      const configs = new Set<number>();
      const out: AudioFrame[] = [];
      for (let k = 0; k < 50; k++) {
        const p = enc.encode(audioFrame(input.subarray(k * 960, (k + 1) * 960), RATE));
        configs.add(p[0]! >> 3);
        out.push(dec.decode(p));
      }
      return { configs: [...configs], lookahead: enc.lookahead, output: concatFrames(out).samples };
    };
    const celt = run('restricted_lowdelay');
    const voip = run('voip');
    expect(celt.configs.every((c) => c >= 16)).toBe(true);
    expect(voip.configs.some((c) => c < 16)).toBe(true);
    expect(celt.lookahead).toBeLessThan(voip.lookahead);
    for (const r of [celt, voip]) {
      let best = -1;
      for (let lag = r.lookahead - 90; lag <= r.lookahead + 90; lag++) best = Math.max(best, correlation(input, r.output, lag, 4800, input.length - 2000));
      expect(best).toBeGreaterThan(0.9);
    }
  });

  it('rejects a frame that is not exactly 10/20/40/60 ms at the encoder rate', () => {
    const enc = new OpusEncoderStream({ sampleRate: 48000, channels: 1, fec: true });
    expect(() => enc.encode(audioFrame(new Int16Array(900), RATE))).toThrow(/10\/20\/40\/60 ms frames.*900 samples/);
    expect(() => enc.encode(audioFrame(new Int16Array(320), 16000))).toThrow(/48000 Hz\/1 ch, got 16000 Hz/);
    expect(() => enc.encode(audioFrame(new Int16Array(1920), RATE, 2))).toThrow(/got 48000 Hz\/2 ch/);
    expect(() => new OpusEncoderStream({ sampleRate: 44100 })).toThrow(/44100/);
    expect(() => new OpusEncoderStream({ complexity: 11 })).toThrow(/complexity/);
  });

  it('decodes stereo-signalled packets into the configured channel count', () => {
    const stereoEnc = new OpusEncoderStream({ channels: 2, fec: true });
    const frame = new Int16Array(960 * 2);
    const mono = sine(440, 960);
    for (let i = 0; i < 960; i++) frame[2 * i] = frame[2 * i + 1] = mono[i]!;
    const packet = stereoEnc.encode(audioFrame(frame, RATE, 2));
    expect(packet[0]! & 0x04).toBe(0x04); // stereo flag in the TOC
    const asMono = new OpusDecoderStream(1).decode(packet);
    expect(asMono.channels).toBe(1);
    expect(asMono.samples.length).toBe(960);
    const asStereo = new OpusDecoderStream(2).decode(packet);
    expect(asStereo.samples.length).toBe(1920);
    expect(() => new OpusDecoderStream(3)).toThrow(/1 or 2/);
  });

  it('decodes 2.5 ms and 120 ms packets', () => {
    const raw = new Encoder({ channels: 1, sample_rate: 48000, application: 'voip' });
    const dec = new OpusDecoderStream(1);
    expect(dec.decode(raw.encode(sine(440, 120))).samples.length).toBe(120);

    const enc = new OpusEncoderStream({ bitrate: 24000 });
    const packets = [0, 1, 2, 3, 4, 5].map((k) => enc.encode(audioFrame(sine(440, 960, 8000, k * 960), RATE)));
    const big = dec.decode(multiFramePacket(packets));
    expect(big.samples.length).toBe(5760);
    expect(dec.lastPacketDurationMs).toBe(120);
  });

  it('decodes 48 kHz packets straight at a lower Opus rate, tone intact, and conceals at that rate', () => {
    const enc = new OpusEncoderStream({ bitrate: 32000 });
    for (const rate of [8000, 16000, 24000]) {
      const dec = new OpusDecoderStream(1, rate);
      expect(dec.sampleRate).toBe(rate);
      const out: AudioFrame[] = [];
      for (let k = 0; k < 25; k++) {
        const pcm = dec.decode(enc.encode(audioFrame(sine(440, 960, 8000, k * 960), RATE)));
        expect(pcm.sampleRate).toBe(rate);
        expect(pcm.samples.length).toBe(rate / 50);
        expect(dec.lastPacketDurationMs).toBe(20);
        out.push(pcm);
      }
      // Same tone at the new rate: against a 440 Hz sine at `rate`, best over the codec's delay.
      const got = concatFrames(out.slice(5)).samples;
      const ref = new Int16Array(got.length + rate / 100);
      for (let i = 0; i < ref.length; i++) ref[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate));
      let best = 0;
      for (let lag = 0; lag < rate / 440; lag++) best = Math.max(best, correlation(got, ref, lag, 0, got.length));
      expect(best).toBeGreaterThan(0.9);
      expect(dec.decodeLost(20).samples.length).toBe(rate / 50);
      expect(dec.decodeLost(7.5).samples.length).toBe((7.5 * rate) / 1000);
      expect(dec.decodeLost(300).samples.length).toBe((300 * rate) / 1000);
    }
    expect(() => new OpusDecoderStream(1, 44100)).toThrow(/cannot decode at 44100/);
  });

  it('conceals lost packets (PLC) for the asked duration, and errors clearly on bad input', () => {
    const enc = new OpusEncoderStream();
    const dec = new OpusDecoderStream(1);
    expect(dec.decodeLost(20).samples.length).toBe(960); // before any packet: silence
    for (let k = 0; k < 10; k++) dec.decode(enc.encode(audioFrame(sine(440, 960, 8000, k * 960), RATE)));
    const lost = dec.decodeLost(20);
    expect(lost.sampleRate).toBe(RATE);
    expect(lost.samples.length).toBe(960);
    expect(rms(lost)).toBeGreaterThan(500); // extrapolated, not silence
    expect(dec.decodeLost(7.5).samples.length).toBe(360);
    expect(dec.decodeLost(300).samples.length).toBe(14400); // longer than one packet: several rounds
    // Decoding resumes normally afterwards.
    expect(dec.decode(enc.encode(audioFrame(sine(440, 960), RATE))).samples.length).toBe(960);
    expect(() => dec.decodeLost(3)).toThrow(/2\.5 ms/);
    expect(() => dec.decode(new Uint8Array(0))).toThrow(/empty/);
    expect(() => dec.decode(Uint8Array.of(0xff, 0xff, 0xff))).toThrow();
  });

  it('complexity 6 codes speech within 1.5 dB of 9, and 16 kHz speech coded at 16 kHz beats coding it from 48 kHz', async () => {
    const speech = toMono(readWav(readFileSync(new URL('../../../test/fixtures/audio/hello-pause-question.wav', import.meta.url))));
    const at16 = speech.sampleRate === 16000 ? speech : await resampleOnce(speech, 16000);
    const at48 = await resampleOnce(at16, 48000);
    /** SNR (dB) of `src` through CELT at `complexity`, 51 kbit/s, decoded at the source rate; best over the codec delay. */
    const snr = (src: AudioFrame, complexity: number): number => {
      const enc = new OpusEncoderStream({ sampleRate: src.sampleRate, application: 'restricted_lowdelay', complexity, bitrate: 51_000 });
      const dec = new OpusDecoderStream(1, src.sampleRate);
      const n = src.sampleRate / 50;
      const frames = Math.floor(src.samples.length / n);
      const out = concatFrames(Array.from({ length: frames }, (_, k) => dec.decode(enc.encode(audioFrame(src.samples.slice(k * n, (k + 1) * n), src.sampleRate))))).samples;
      let best = -Infinity;
      for (let lag = 0; lag < n; lag++) {
        let es = 0;
        let ee = 0;
        for (let i = 0; i + lag < out.length; i++) {
          const x = src.samples[i]!;
          es += x * x;
          ee += (x - out[i + lag]!) ** 2;
        }
        best = Math.max(best, 10 * Math.log10(es / ee));
      }
      return best;
    };
    const from48 = { c9: snr(at48, 9), c6: snr(at48, 6) };
    const direct = { c9: snr(at16, 9), c6: snr(at16, 6) };
    expect(from48.c6).toBeGreaterThan(from48.c9 - 1.5);
    expect(direct.c6).toBeGreaterThan(direct.c9 - 1.5);
    expect(direct.c6).toBeGreaterThan(from48.c9);
  }, 30_000);
});
