import { readFileSync } from 'node:fs';
import { OpusEncoderStream } from '../../media-worker/src/audio/opus.ts';
import { toMono, readWav } from '../../media-worker/src/audio/pcm.ts';
import { Reframer } from '../../media-worker/src/audio/reframer.ts';
import { resampleOnce } from '../../media-worker/src/audio/resampler.ts';

export const SPEECH_FIXTURE = new URL('../../test/fixtures/audio/hello-pause-question.wav', import.meta.url);
/** RTP clock ticks per 20 ms packet at 48 kHz. */
export const SAMPLES_PER_PACKET = 960;
export const PACKET_MS = 20;

/**
 * A WAV file (the speech fixture by default) encoded once into 20 ms Opus packets at 48 kHz mono,
 * with the same encoder settings as a browser-like client (FEC on): senders loop over these, so
 * the load generator spends no CPU on encoding. The last partial frame is padded with silence.
 */
export async function loadOpusPackets(wav: URL | string = SPEECH_FIXTURE): Promise<Buffer[]> {
  const recording = toMono(readWav(readFileSync(wav)));
  const at48 = recording.sampleRate === 48000 ? recording : await resampleOnce(recording, 48000);
  const reframer = new Reframer(48000, 1, PACKET_MS);
  const frames = [...reframer.push(at48)];
  const tail = reframer.flush(true);
  if (tail) frames.push(tail);
  const encoder = new OpusEncoderStream({ sampleRate: 48000, channels: 1, fec: true });
  return frames.map((f) => Buffer.from(encoder.encode(f)));
}
