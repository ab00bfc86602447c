/**
 * The reply side of a media stream, made when its `start` says the output format: a sink that
 * frames reply audio as the provider's (or stream client's) messages, Opus-encoded when the
 * format is Opus, and the playout engine that paces it on the worker's shared 20 ms clock.
 */
import type { AudioFrame } from '../../audio/frame.ts';
import { FrameClock } from '../../audio/frame-clock.ts';
import { OpusEncoderStream } from '../../audio/opus.ts';
import { PlayoutEngine } from '../../audio/playout/engine.ts';
import type { MediaSerializer, StreamStart, WireMessage } from './serializer.ts';
import { SocketSink } from './socket-sink.ts';

/** Bits/s of a stream client's Opus replies: what browsers send for mono speech (the WebRTC transport's choice too). */
const OPUS_REPLY_BITRATE = 32_000;

/**
 * The sink and (not yet started) engine of a stream that started as `start`. `send` puts a message
 * on the media socket; `current` is the stream's current start (a replaced stream's messages
 * address the new one).
 */
export function streamPlayout(
  start: StreamStart,
  serializer: MediaSerializer,
  send: (message: WireMessage) => void,
  current: () => StreamStart | undefined,
): { sink: SocketSink; engine: PlayoutEngine } {
  const opus = start.output.encoding === 'opus' ? new OpusEncoderStream({ sampleRate: start.output.sampleRate, channels: 1, bitrate: OPUS_REPLY_BITRATE }) : null;
  const sink = new SocketSink({
    sampleRate: start.output.sampleRate,
    serializer,
    send,
    start: current,
    ...(opus ? { encode: (f: AudioFrame) => opus.encode(f) } : {}),
  });
  return { sink, engine: new PlayoutEngine({ sink, clock: FrameClock.shared(20) }) };
}
