/**
 * Switchboard's own WebSocket stream clients (docs/stream-protocol.md) as a MediaSerializer.
 *
 * Text frames are JSON: the client's `start` and `mark` echoes, and any other `{type}` object,
 * which is a channel message for the handler (a `ping` among them: the transport answers it, as
 * on the WebRTC events channel). Binary frames are audio: pcm16 is signed 16-bit little-endian
 * mono at the start's rate, any whole number of samples a frame.
 *
 * Opus (one packet a binary frame, 48 kHz) needs a stateful codec, which a pure serializer cannot
 * hold: the transport decodes and encodes Opus packets itself, and decode/encodeMedia refuse them.
 *
 * What the serializer cannot know is the session id: a decoded start has streamId '' and the
 * transport fills in its session id. `session` and `started` are sent by the transport; their
 * builders are here beside mark and clear.
 */
import {
  parseStreamClientInbound,
  STREAM_MAX_MESSAGE_BYTES,
  type ChannelMessage,
  type StreamFormat,
  type StreamServerMessage,
} from '@switchboard/protocol';
import { audioFrame, type AudioFrame } from '../../../audio/frame.ts';
import type { InboundEvent, MediaSerializer, StreamEncoding, StreamStart, WireMessage } from '../serializer.ts';
import { checkReplyFrame } from './common.ts';
import { bytesToSamples, samplesToBytes } from './payload.ts';

const WHO = 'stream';

const toEncoding = (f: StreamFormat): StreamEncoding => (f.encoding === 'pcm16' ? 'pcm16le' : 'opus');

/** The client's format in the stream protocol's words (the inverse of the start mapping). */
function toFormat(f: { encoding: StreamEncoding; sampleRate: number }): StreamFormat {
  if (f.encoding === 'opus' && f.sampleRate === 48000) return { encoding: 'opus', sampleRate: 48000 };
  if (f.encoding === 'pcm16le' && (f.sampleRate === 8000 || f.sampleRate === 16000 || f.sampleRate === 24000 || f.sampleRate === 48000)) {
    return { encoding: 'pcm16', sampleRate: f.sampleRate };
  }
  throw new Error(`stream: ${f.encoding} ${f.sampleRate} Hz is not a stream-client format`);
}

function decode(data: WireMessage, start: StreamStart | undefined): InboundEvent {
  if (typeof data !== 'string') return decodeAudio(data, start);
  const r = parseStreamClientInbound(data);
  if (!r.ok) throw new Error(r.error);
  const msg = r.value;
  switch (msg.kind) {
    case 'start': {
      const { format, output = format } = msg.value;
      return {
        kind: 'start',
        start: {
          streamId: '',
          callId: '',
          format: { encoding: toEncoding(format), sampleRate: format.sampleRate, channels: 1 },
          output: { encoding: toEncoding(output), sampleRate: output.sampleRate },
          params: {},
        },
      };
    }
    case 'mark':
      return { kind: 'ack', name: msg.value.name };
    case 'event':
      return { kind: 'event', event: msg.value };
  }
}

function decodeAudio(bytes: Uint8Array, start: StreamStart | undefined): InboundEvent {
  if (bytes.byteLength > STREAM_MAX_MESSAGE_BYTES) {
    throw new Error(`stream: binary frame of ${bytes.byteLength} bytes, larger than ${STREAM_MAX_MESSAGE_BYTES}`);
  }
  // The protocol drops audio that precedes the stream's start; it is not an error.
  if (!start) return { kind: 'ignored', what: 'audio before start' };
  if (start.format.encoding === 'opus') throw new Error('stream: opus packets are decoded by the transport codec, not the serializer');
  if (bytes.byteLength === 0) throw new Error('stream: empty audio frame');
  const samples = bytesToSamples(bytes, start.format.encoding, WHO);
  return { kind: 'audio', frame: audioFrame(samples, start.format.sampleRate, 1) };
}

function encodeMedia(start: StreamStart, frame: AudioFrame): WireMessage {
  checkReplyFrame(start, frame, WHO);
  if (start.output.encoding === 'opus') throw new Error('stream: opus reply audio is encoded by the transport codec, not the serializer');
  return samplesToBytes(frame.samples, start.output.encoding, WHO);
}

const send = (msg: StreamServerMessage | ChannelMessage): string => JSON.stringify(msg);

/** The first server message: the session's id. */
export const encodeSession = (id: string): string => send({ type: 'session', id });

/** A worker has taken the session: audio is read from now on, in these formats. */
export const encodeStarted = (start: StreamStart): string =>
  send({ type: 'started', format: toFormat(start.format), output: toFormat(start.output) });

export const streamSerializer: MediaSerializer = {
  name: 'stream',
  decode,
  encodeMedia,
  /** Follows reply audio; the client echoes it once everything before it has played. */
  encodeMark: (_start, name) => send({ type: 'mark', name }),
  /** Barge-in: drop every unplayed reply sample; marks sent before it need no echo. */
  encodeClear: () => send({ type: 'clear' }),
  encodeEvent: (_start, event) => send(event),
};
