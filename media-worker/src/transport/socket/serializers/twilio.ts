/**
 * Twilio Media Streams (bidirectional `<Connect><Stream>`) as a MediaSerializer.
 * https://www.twilio.com/docs/voice/media-streams/websocket-messages
 *
 * Inbound text is shape-checked by the protocol's `TwilioInbound` schema; this module refuses
 * what the schema cannot: a `start` whose mediaFormat is not 8 kHz mono mu-law (the only format
 * Twilio streams) and media payloads that are empty or not base64. Outbound, it builds the three
 * messages Twilio accepts on a bidirectional stream: media, mark and clear, each with the
 * streamSid. Twilio has no way to show pipeline events, so encodeEvent returns null.
 */
import { expandMedia, mediaFormatProblem, PAYLOAD_SLOT, parseTwilioInbound, TWILIO_MEDIA_FORMAT, type MediaParts, type TwilioOutbound } from '@switchboard/protocol';
import type { AudioFrame } from '../../../audio/frame.ts';
import type { InboundEvent, MediaSerializer, StreamStart, WireMessage } from '../serializer.ts';
import { checkReplyFrame, parsedOrIgnored, textOf } from './common.ts';
import { inboundAudio, samplesToBytes } from './payload.ts';

const WHO = 'twilio';
const KNOWN = ['connected', 'start', 'media', 'dtmf', 'mark', 'stop'] as const;
const RATE = TWILIO_MEDIA_FORMAT.sampleRate;

function decode(data: WireMessage, _start: StreamStart | undefined): InboundEvent {
  const text = textOf(data, WHO);
  const parsed = parsedOrIgnored(parseTwilioInbound(text), text, 'event', KNOWN);
  if (!('value' in parsed)) return parsed;
  const msg = parsed.value;
  switch (msg.event) {
    case 'connected':
      return { kind: 'connected' };
    case 'start': {
      const problem = mediaFormatProblem(msg.start.mediaFormat);
      if (problem) throw new Error(`twilio start: ${problem}`);
      return {
        kind: 'start',
        start: {
          streamId: msg.streamSid,
          callId: msg.start.callSid,
          format: { encoding: 'mulaw', sampleRate: RATE, channels: 1 },
          output: { encoding: 'mulaw', sampleRate: RATE },
          params: msg.start.customParameters,
        },
      };
    }
    case 'media': {
      // The format is fixed (checked at start), so media needs no start to be read.
      return inboundAudio(msg.media.track, msg.media.payload, { encoding: 'mulaw', sampleRate: RATE, channels: 1 }, WHO);
    }
    case 'dtmf':
      return { kind: 'dtmf', digit: msg.dtmf.digit };
    case 'mark':
      return { kind: 'ack', name: msg.mark.name };
    case 'stop':
      return { kind: 'stop' };
  }
}

function encodeMediaParts(start: StreamStart, frame: AudioFrame): MediaParts {
  checkReplyFrame(start, frame, WHO);
  if (start.output.encoding !== 'mulaw') throw new Error(`twilio encodeMedia: output encoding ${start.output.encoding}, Twilio takes mulaw`);
  const template = send({ event: 'media', streamSid: start.streamId, media: { payload: PAYLOAD_SLOT } });
  return { template, payload: samplesToBytes(frame.samples, 'mulaw', WHO) };
}

const send = (msg: TwilioOutbound): string => JSON.stringify(msg);

export const twilioSerializer: MediaSerializer = {
  name: 'twilio',
  decode,
  encodeMedia: (start, frame) => expandMedia(encodeMediaParts(start, frame)),
  encodeMediaParts,
  /** Twilio echoes the mark once all media sent before it has played (or been cleared). */
  encodeMark: (start, name) => send({ event: 'mark', streamSid: start.streamId, mark: { name } }),
  /** Drops all audio Twilio has buffered for the stream; outstanding marks are echoed. */
  encodeClear: (start) => send({ event: 'clear', streamSid: start.streamId }),
  encodeEvent: () => null,
};
