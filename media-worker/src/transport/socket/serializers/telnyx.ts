/**
 * Telnyx Media Streaming (bidirectional RTP mode) as a MediaSerializer.
 * https://developers.telnyx.com/api-reference/websockets/stream-call-media-over-websocket
 *
 * Payloads are base64 RTP payloads without RTP headers, in the `start.media_format` codec.
 * Carried here: PCMU at 8 kHz (G.711 mu-law) and L16 at 16 kHz (16-bit linear PCM in network
 * byte order, big-endian, as RTP's L16). Reply audio goes back in the inbound format: the stream
 * must be set up with `stream_bidirectional_codec` and `stream_bidirectional_sampling_rate`
 * equal to the streamed codec and rate. Frames we send carry no stream id (the socket is the
 * stream). Telnyx answers a `clear` by echoing every queued mark, so clear needs no ack of its
 * own. Phones show no pipeline events: encodeEvent returns null.
 */
import { expandMedia, PAYLOAD_SLOT, parseTelnyxInbound, TELNYX_INBOUND_EVENTS, type MediaParts, type TelnyxMediaFormat, type TelnyxOutbound } from '@switchboard/protocol';
import type { AudioFrame } from '../../../audio/frame.ts';
import type { InboundEvent, MediaSerializer, StreamEncoding, StreamStart, WireMessage } from '../serializer.ts';
import { checkReplyFrame, parsedOrIgnored, printable, requireStart, textOf } from './common.ts';
import { inboundAudio, samplesToBytes } from './payload.ts';

const WHO = 'telnyx';

/**
 * Telnyx codec name -> stream encoding and the one rate carried for it. `audio/x-mulaw` is the
 * encoding name in Telnyx's older streaming_start examples for the same PCMU stream.
 */
const CODECS: Record<string, { encoding: StreamEncoding; sampleRate: number }> = {
  PCMU: { encoding: 'mulaw', sampleRate: 8000 },
  'audio/x-mulaw': { encoding: 'mulaw', sampleRate: 8000 },
  L16: { encoding: 'l16', sampleRate: 16000 },
};

/** The stream encoding of a Telnyx media_format, or an Error saying what is carried instead. */
export function telnyxFormat(f: TelnyxMediaFormat): { encoding: StreamEncoding; sampleRate: number } {
  const codec = Object.hasOwn(CODECS, f.encoding) ? CODECS[f.encoding] : undefined;
  const got = `${printable(f.encoding)} ${f.sample_rate} Hz ${f.channels} ch`;
  if (!codec || codec.sampleRate !== f.sample_rate || f.channels !== 1) {
    throw new Error(`telnyx start: unsupported media_format ${got} (expected PCMU 8000 Hz or L16 16000 Hz, 1 ch)`);
  }
  return codec;
}

function decode(data: WireMessage, start: StreamStart | undefined): InboundEvent {
  const text = textOf(data, WHO);
  const parsed = parsedOrIgnored(parseTelnyxInbound(text), text, 'event', TELNYX_INBOUND_EVENTS);
  if (!('value' in parsed)) return parsed;
  const msg = parsed.value;
  switch (msg.event) {
    case 'connected':
      return { kind: 'connected' };
    case 'start': {
      const format = telnyxFormat(msg.start.media_format);
      return {
        kind: 'start',
        start: {
          streamId: msg.stream_id,
          callId: msg.start.call_control_id,
          format: { ...format, channels: 1 },
          output: format,
          params: msg.start.custom_parameters,
        },
      };
    }
    case 'media': {
      return inboundAudio(msg.media.track, msg.media.payload, requireStart(start, WHO).format, WHO);
    }
    case 'dtmf':
      return { kind: 'dtmf', digit: msg.dtmf.digit };
    case 'mark':
      return { kind: 'ack', name: msg.mark.name };
    case 'stop':
      return { kind: 'stop' };
    case 'error': {
      // A stream error (a refused media frame, a rate limit) does not end the stream.
      const e = msg.error;
      const what = e ? `${String(e.code ?? '')} ${e.title ?? ''}: ${e.detail ?? ''}` : 'no detail';
      return { kind: 'ignored', what: `error ${printable(what, 120)}` };
    }
  }
}

function encodeMediaParts(start: StreamStart, frame: AudioFrame): MediaParts {
  checkReplyFrame(start, frame, WHO);
  return { template: MEDIA_TEMPLATE, payload: samplesToBytes(frame.samples, start.output.encoding, WHO) };
}

const MEDIA_TEMPLATE = JSON.stringify({ event: 'media', media: { payload: PAYLOAD_SLOT } } satisfies TelnyxOutbound);

const send = (msg: TelnyxOutbound): string => JSON.stringify(msg);

export const telnyxSerializer: MediaSerializer = {
  name: 'telnyx',
  decode,
  encodeMedia: (start, frame) => expandMedia(encodeMediaParts(start, frame)),
  encodeMediaParts,
  /** Echoed once the media sent before it has played (at once if nothing is queued). */
  encodeMark: (_start, name) => send({ event: 'mark', mark: { name } }),
  /** Stops playback and drops queued media; Telnyx echoes the queued marks. */
  encodeClear: () => send({ event: 'clear' }),
  encodeEvent: () => null,
};
