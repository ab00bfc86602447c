/**
 * Plivo Audio Streams (`<Stream bidirectional="true">`) as a MediaSerializer.
 * https://www.plivo.com/docs/voice/audio-streaming/audio-streaming
 *
 * Carried formats (Plivo's whole list): audio/x-mulaw at 8 kHz and audio/x-l16 at 8 or 16 kHz,
 * mono. Plivo's documentation does not state the byte order of audio/x-l16; Plivo's own
 * streaming SDK demo forwards its payloads unchanged to a little-endian `linear16` recogniser
 * and plays little-endian `pcm_16000` synthesis back through playAudio, so L16 is read and
 * written little-endian here (the stream encoding `pcm16le`).
 *
 * Reply audio goes back in the inbound format; every playAudio names its contentType and
 * sampleRate (Plivo does not support switching codecs between playAudio events). A checkpoint
 * is acknowledged with `playedStream`, a clearAudio with `clearedAudio`. Plivo sends no stop:
 * the stream ends when the socket closes. Phones show no pipeline events: encodeEvent is null.
 */
import {
  expandMedia,
  PAYLOAD_SLOT,
  parsePlivoExtraHeaders,
  parsePlivoInbound,
  PLIVO_CONTENT_TYPES,
  PLIVO_INBOUND_EVENTS,
  type MediaParts,
  type PlivoContentType,
  type PlivoOutbound,
} from '@switchboard/protocol';
import type { AudioFrame } from '../../../audio/frame.ts';
import type { InboundEvent, MediaSerializer, StreamEncoding, StreamStart, WireMessage } from '../serializer.ts';
import { checkReplyFrame, parsedOrIgnored, printable, requireStart, textOf } from './common.ts';
import { inboundAudio, samplesToBytes } from './payload.ts';

const WHO = 'plivo';

const ENCODING: Record<PlivoContentType, StreamEncoding> = { 'audio/x-mulaw': 'mulaw', 'audio/x-l16': 'pcm16le' };

/** The stream encoding of a Plivo mediaFormat, or an Error saying what is carried instead. */
export function plivoFormat(f: { encoding: string; sampleRate: number }): StreamEncoding {
  const type = Object.hasOwn(PLIVO_CONTENT_TYPES, f.encoding) ? (f.encoding as PlivoContentType) : undefined;
  const rates: readonly number[] | undefined = type && PLIVO_CONTENT_TYPES[type];
  if (!type || !rates?.includes(f.sampleRate)) {
    throw new Error(
      `plivo start: unsupported mediaFormat ${printable(f.encoding)} ${f.sampleRate} Hz (expected audio/x-mulaw 8000 Hz or audio/x-l16 8000/16000 Hz)`,
    );
  }
  return ENCODING[type];
}

function decode(data: WireMessage, start: StreamStart | undefined): InboundEvent {
  const text = textOf(data, WHO);
  const parsed = parsedOrIgnored(parsePlivoInbound(text), text, 'event', PLIVO_INBOUND_EVENTS);
  if (!('value' in parsed)) return parsed;
  const msg = parsed.value;
  switch (msg.event) {
    case 'start': {
      const { sampleRate } = msg.start.mediaFormat;
      const encoding = plivoFormat(msg.start.mediaFormat);
      return {
        kind: 'start',
        start: {
          streamId: msg.start.streamId,
          callId: msg.start.callId,
          format: { encoding, sampleRate, channels: 1 },
          output: { encoding, sampleRate },
          params: parsePlivoExtraHeaders(msg.extra_headers),
        },
      };
    }
    case 'media': {
      return inboundAudio(msg.media.track, msg.media.payload, requireStart(start, WHO).format, WHO);
    }
    case 'dtmf':
      return { kind: 'dtmf', digit: msg.dtmf.digit };
    case 'playedStream':
      return { kind: 'ack', name: msg.name };
    case 'clearedAudio':
      return { kind: 'cleared' };
  }
}

function encodeMediaParts(start: StreamStart, frame: AudioFrame): MediaParts {
  checkReplyFrame(start, frame, WHO);
  const contentType = contentTypeOf(start.output.encoding);
  const sampleRate = start.output.sampleRate;
  if (sampleRate !== 8000 && sampleRate !== 16000) throw new Error(`plivo encodeMedia: output rate ${sampleRate} Hz, Plivo takes 8000 or 16000`);
  const template = send({ event: 'playAudio', media: { contentType, sampleRate, payload: PAYLOAD_SLOT } });
  return { template, payload: samplesToBytes(frame.samples, start.output.encoding, WHO) };
}

function contentTypeOf(encoding: StreamEncoding): PlivoContentType {
  if (encoding === 'mulaw') return 'audio/x-mulaw';
  if (encoding === 'pcm16le') return 'audio/x-l16';
  throw new Error(`plivo encodeMedia: output encoding ${encoding}, Plivo takes mulaw or L16`);
}

const send = (msg: PlivoOutbound): string => JSON.stringify(msg);

export const plivoSerializer: MediaSerializer = {
  name: 'plivo',
  decode,
  encodeMedia: (start, frame) => expandMedia(encodeMediaParts(start, frame)),
  encodeMediaParts,
  /** Plivo answers with `playedStream` once the audio sent before the checkpoint has played. */
  encodeMark: (start, name) => send({ event: 'checkpoint', streamId: start.streamId, name }),
  /** Plivo drops its buffered audio and answers with `clearedAudio`. */
  encodeClear: (start) => send({ event: 'clearAudio', streamId: start.streamId }),
  encodeEvent: () => null,
};
