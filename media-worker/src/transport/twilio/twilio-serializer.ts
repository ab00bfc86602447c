/**
 * Twilio Media Streams <-> Switchboard types, as pure functions (no I/O, no timers, no state).
 *
 * Inbound messages are already shape-checked by the `TwilioInbound` zod schema; this module turns
 * them into what the pipeline uses (mu-law payloads become PCM16 AudioFrames, decimal strings
 * become numbers) and rejects what the schema cannot: an encoding other than 8-bit mu-law, and
 * media payloads that are empty or not base64. Outbound builders produce exactly the three
 * messages Twilio accepts on a bidirectional stream (media, mark, clear).
 */
import type { TwilioInbound, TwilioOutbound } from '@switchboard/protocol';
import alawmulaw from 'alawmulaw'; // CommonJS: only a default import works under Node's ESM loader
import { audioFrame, type AudioFrame } from '../../audio/frame.ts';

const { mulaw } = alawmulaw;

/** The only encoding Twilio uses on Media Streams (and the only one decoded here). */
export const TWILIO_ENCODING = 'audio/x-mulaw';
/** Twilio's stream rate, used for media before (or without) a `start`. */
export const TWILIO_SAMPLE_RATE = 8000;

export interface TwilioStartInfo {
  streamSid: string;
  callSid: string;
  accountSid: string;
  customParameters: Record<string, string>;
  sampleRate: number;
  channels: number;
  encoding: string;
}

export type TwilioDecoded =
  | { kind: 'connected' }
  | ({ kind: 'start' } & TwilioStartInfo)
  | { kind: 'audio'; frame: AudioFrame; sequenceNumber: number; chunk: number; timestampMs: number }
  | { kind: 'dtmf'; digit: string }
  | { kind: 'mark'; name: string }
  | { kind: 'stop' };

export interface DecodeOptions {
  /** Rate of media payloads: the stream's `start.mediaFormat.sampleRate`. Default 8000. */
  sampleRate?: number;
}

/**
 * Decodes one inbound message. The caller keeps the stream's rate from `start` and passes it for
 * media (this function holds no state). Throws an Error on a non-mu-law or multi-channel start
 * and on an empty or non-base64 media payload.
 */
export function decodeTwilio(msg: TwilioInbound, opts: DecodeOptions = {}): TwilioDecoded {
  switch (msg.event) {
    case 'connected':
      return { kind: 'connected' };
    case 'start': {
      const { encoding, sampleRate, channels } = msg.start.mediaFormat;
      if (encoding !== TWILIO_ENCODING) throw new Error(`twilio start: unsupported encoding "${encoding}" (expected ${TWILIO_ENCODING})`);
      // Payloads are decoded as mono; a multi-channel stream would be misread, so it is refused.
      if (channels !== 1) throw new Error(`twilio start: ${channels} channels, expected 1`);
      return {
        kind: 'start',
        streamSid: msg.streamSid,
        callSid: msg.start.callSid,
        accountSid: msg.start.accountSid,
        customParameters: msg.start.customParameters,
        sampleRate,
        channels,
        encoding,
      };
    }
    case 'media': {
      const bytes = decodeBase64(msg.media.payload);
      const samples = mulaw.decode(bytes);
      return {
        kind: 'audio',
        frame: audioFrame(samples, opts.sampleRate ?? TWILIO_SAMPLE_RATE, 1),
        sequenceNumber: Number(msg.sequenceNumber),
        chunk: Number(msg.media.chunk),
        timestampMs: Number(msg.media.timestamp),
      };
    }
    case 'dtmf':
      return { kind: 'dtmf', digit: msg.dtmf.digit };
    case 'mark':
      return { kind: 'mark', name: msg.mark.name };
    case 'stop':
      return { kind: 'stop' };
  }
}

/** Reply audio for Twilio: the frame must already be 8 kHz mono PCM16 (the transport converts). */
export function encodeMedia(streamSid: string, frame: AudioFrame): TwilioOutbound {
  if (frame.sampleRate !== TWILIO_SAMPLE_RATE || frame.channels !== 1) {
    throw new Error(`encodeMedia: expected ${TWILIO_SAMPLE_RATE} Hz mono, got ${frame.sampleRate} Hz/${frame.channels} ch`);
  }
  if (frame.samples.length === 0) throw new Error('encodeMedia: empty frame');
  const bytes = mulaw.encode(frame.samples);
  const payload = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  return { event: 'media', streamSid, media: { payload } };
}

/** A mark: Twilio echoes it back once all media sent before it has played (or been cleared). */
export function encodeMark(streamSid: string, name: string): TwilioOutbound {
  return { event: 'mark', streamSid, mark: { name } };
}

/** Drops all audio Twilio has buffered for the stream (barge-in); outstanding marks are echoed. */
export function encodeClear(streamSid: string): TwilioOutbound {
  return { event: 'clear', streamSid };
}

// Standard alphabet with padding, as Twilio sends it. Buffer.from(s, 'base64') never fails (it
// skips bad characters), so the text is checked first.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeBase64(text: string): Uint8Array {
  if (text.length === 0) throw new Error('twilio media: empty payload');
  if (!BASE64.test(text)) throw new Error('twilio media: payload is not valid base64');
  return Buffer.from(text, 'base64');
}
