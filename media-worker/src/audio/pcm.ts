/**
 * Small PCM helpers on AudioFrames: channel down-mix, int16 <-> float32, concatenation, silence,
 * RMS, and 16-bit PCM WAV read/write. Every function keeps the frame's own sample rate; none
 * assumes 8/16/48 kHz.
 */
import { audioFrame, type AudioFrame } from './frame.ts';

/** Averages the channels of an interleaved frame into one. Mono frames are returned as they are. */
export function toMono(frame: AudioFrame): AudioFrame {
  const { channels, samples } = frame;
  if (channels === 1) return frame;
  const n = samples.length / channels;
  const out = new Int16Array(n);
  for (let i = 0, j = 0; i < n; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += samples[j++]!;
    out[i] = Math.round(sum / channels);
  }
  return audioFrame(out, frame.sampleRate, 1);
}

/**
 * Copies mono samples into `channels` identical interleaved channels (the reverse of toMono for
 * mono input). Frames that already have `channels` channels are returned as they are.
 */
export function upmix(frame: AudioFrame, channels: number): AudioFrame {
  if (frame.channels === channels) return frame;
  if (frame.channels !== 1) throw new RangeError(`cannot upmix ${frame.channels} channels to ${channels}`);
  const n = frame.samples.length;
  const out = new Int16Array(n * channels);
  for (let i = 0, j = 0; i < n; i++) {
    const s = frame.samples[i]!;
    for (let c = 0; c < channels; c++) out[j++] = s;
  }
  return audioFrame(out, frame.sampleRate, channels);
}

/** Converts to `channels` channels: down-mix to mono, or duplicate mono; anything else throws. */
export function toChannels(frame: AudioFrame, channels: number): AudioFrame {
  if (frame.channels === channels) return frame;
  if (channels === 1) return toMono(frame);
  return upmix(frame, channels);
}

/** int16 -> float32 in [-1, 1). Writes into `out` when given (it must be long enough), to avoid allocating. */
export function int16ToFloat32(samples: Int16Array, out?: Float32Array): Float32Array {
  const dst = out ?? new Float32Array(samples.length);
  if (dst.length < samples.length) throw new RangeError('output buffer too small');
  for (let i = 0; i < samples.length; i++) dst[i] = samples[i]! / 32768;
  return dst;
}

/** float32 in [-1, 1] -> int16, clamped and rounded. Writes into `out` when given. */
export function float32ToInt16(samples: Float32Array, out?: Int16Array): Int16Array {
  const dst = out ?? new Int16Array(samples.length);
  if (dst.length < samples.length) throw new RangeError('output buffer too small');
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    // Asymmetric scale so -1 maps to -32768 and +1 to 32767; NaN becomes 0.
    const v = s < 0 ? s * 32768 : s * 32767;
    dst[i] = v >= 32767 ? 32767 : v <= -32768 ? -32768 : Math.round(v) || 0;
  }
  return dst;
}

/** Concatenates frames of one rate and channel count. Throws on an empty list or mixed formats. */
export function concatFrames(frames: readonly AudioFrame[]): AudioFrame {
  const first = frames[0];
  if (first === undefined) throw new RangeError('concatFrames: no frames');
  if (frames.length === 1) return first;
  let total = 0;
  for (const f of frames) {
    if (f.sampleRate !== first.sampleRate || f.channels !== first.channels) {
      throw new RangeError(
        `concatFrames: mixed formats (${first.sampleRate} Hz/${first.channels} ch vs ${f.sampleRate} Hz/${f.channels} ch)`,
      );
    }
    total += f.samples.length;
  }
  const out = new Int16Array(total);
  let off = 0;
  for (const f of frames) {
    out.set(f.samples, off);
    off += f.samples.length;
  }
  return audioFrame(out, first.sampleRate, first.channels);
}

/** A frame of digital silence, `ms` long (rounded to whole samples). */
export function silence(sampleRate: number, channels: number, ms: number): AudioFrame {
  if (!(ms >= 0)) throw new RangeError(`bad duration ${ms}`);
  const n = Math.round((ms * sampleRate) / 1000);
  return audioFrame(new Int16Array(n * channels), sampleRate, channels);
}

/** Root mean square over all samples of all channels, in int16 units (0 .. 32768). 0 for an empty frame. */
export function rms(frame: AudioFrame): number {
  const s = frame.samples;
  if (s.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < s.length; i++) sum += s[i]! * s[i]!;
  return Math.sqrt(sum / s.length);
}

/** The largest absolute sample value (0 .. 32768); 0 for no samples. */
export function peak(samples: Int16Array): number {
  let p = 0;
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i]!;
    if (v > p) p = v;
    else if (-v > p) p = -v;
  }
  return p;
}

// --- WAV -----------------------------------------------------------------------------------

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

function fourcc(view: DataView, off: number): string {
  return String.fromCharCode(view.getUint8(off), view.getUint8(off + 1), view.getUint8(off + 2), view.getUint8(off + 3));
}

/**
 * Parses a 16-bit PCM RIFF/WAVE file. Walks the chunk list, so extra chunks (LIST, fact, bext,
 * ...) before or after `data` are skipped; odd-sized chunks are padded to even sizes as RIFF
 * requires. Accepts WAVE_FORMAT_EXTENSIBLE when its sub-format is PCM. A `data` size larger than
 * the file (streamed writers put 0xFFFFFFFF there) is clamped to what is present.
 */
export function readWav(buf: Uint8Array): AudioFrame {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.byteLength < 12 || fourcc(view, 0) !== 'RIFF' || fourcc(view, 8) !== 'WAVE') {
    throw new Error('readWav: not a RIFF/WAVE file');
  }
  let fmt: { format: number; channels: number; sampleRate: number; bits: number } | undefined;
  let off = 12;
  while (off + 8 <= buf.byteLength) {
    const id = fourcc(view, off);
    const size = view.getUint32(off + 4, true);
    const body = off + 8;
    if (id === 'fmt ') {
      if (size < 16) throw new Error('readWav: fmt chunk too short');
      let format = view.getUint16(body, true);
      if (format === WAVE_FORMAT_EXTENSIBLE && size >= 40) format = view.getUint16(body + 24, true); // sub-format GUID starts with the format tag
      fmt = {
        format,
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        bits: view.getUint16(body + 14, true),
      };
    } else if (id === 'data') {
      if (!fmt) throw new Error('readWav: data chunk before fmt chunk');
      if (fmt.format !== WAVE_FORMAT_PCM || fmt.bits !== 16) {
        throw new Error(`readWav: only 16-bit PCM is supported (format ${fmt.format}, ${fmt.bits} bits)`);
      }
      const available = Math.min(size, buf.byteLength - body);
      const frameBytes = 2 * fmt.channels;
      const n = Math.floor(available / frameBytes) * fmt.channels;
      const samples = new Int16Array(n);
      for (let i = 0; i < n; i++) samples[i] = view.getInt16(body + 2 * i, true); // WAV is little-endian
      return audioFrame(samples, fmt.sampleRate, fmt.channels);
    }
    off = body + size + (size & 1);
  }
  throw new Error(fmt ? 'readWav: no data chunk' : 'readWav: no fmt chunk');
}

/** Writes a canonical 44-byte-header 16-bit PCM WAV file. */
export function writeWav(frame: AudioFrame): Buffer {
  const dataBytes = frame.samples.length * 2;
  const out = Buffer.alloc(44 + dataBytes);
  out.write('RIFF', 0, 'ascii');
  out.writeUInt32LE(36 + dataBytes, 4);
  out.write('WAVE', 8, 'ascii');
  out.write('fmt ', 12, 'ascii');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(WAVE_FORMAT_PCM, 20);
  out.writeUInt16LE(frame.channels, 22);
  out.writeUInt32LE(frame.sampleRate, 24);
  out.writeUInt32LE(frame.sampleRate * frame.channels * 2, 28); // byte rate
  out.writeUInt16LE(frame.channels * 2, 32); // block align
  out.writeUInt16LE(16, 34);
  out.write('data', 36, 'ascii');
  out.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < frame.samples.length; i++) out.writeInt16LE(frame.samples[i]!, 44 + 2 * i);
  return out;
}
