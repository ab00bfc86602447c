import { z } from 'zod';
import { parseJson } from './parse.ts';

/**
 * Twilio Media Streams (bidirectional, `<Connect><Stream>`), as documented by Twilio:
 * every numeric field of a media message travels as a string; audio is base64 8 kHz mu-law.
 * Inbound objects are loose: Twilio may add fields, which are kept and ignored.
 */
const Num = z.string().regex(/^\d+$/, 'expected a decimal string');

export const TwilioConnected = z.looseObject({
  event: z.literal('connected'),
  protocol: z.string(),
  version: z.string(),
});

export const TwilioStart = z.looseObject({
  event: z.literal('start'),
  sequenceNumber: Num,
  streamSid: z.string().min(1),
  start: z.looseObject({
    accountSid: z.string(),
    streamSid: z.string(),
    callSid: z.string(),
    tracks: z.array(z.string()),
    customParameters: z.record(z.string(), z.string()).default({}),
    mediaFormat: z.looseObject({
      encoding: z.string(),
      sampleRate: z.number().int().positive(),
      channels: z.number().int().positive(),
    }),
  }),
});

export const TwilioMedia = z.looseObject({
  event: z.literal('media'),
  sequenceNumber: Num,
  streamSid: z.string().min(1),
  media: z.looseObject({
    track: z.string(),
    chunk: Num,
    timestamp: Num,
    payload: z.string(),
  }),
});

export const TwilioDtmf = z.looseObject({
  event: z.literal('dtmf'),
  sequenceNumber: Num,
  streamSid: z.string().min(1),
  dtmf: z.looseObject({ track: z.string(), digit: z.string().regex(/^[0-9*#A-Da-dw]$/) }),
});

export const TwilioMarkIn = z.looseObject({
  event: z.literal('mark'),
  sequenceNumber: Num,
  streamSid: z.string().min(1),
  mark: z.looseObject({ name: z.string() }),
});

export const TwilioStop = z.looseObject({
  event: z.literal('stop'),
  sequenceNumber: Num,
  streamSid: z.string().min(1),
  stop: z.looseObject({ accountSid: z.string(), callSid: z.string() }),
});

/** The only stream format Switchboard carries: Twilio's 8 kHz mono mu-law. */
export const TWILIO_MEDIA_FORMAT = { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } as const;

/** Why a `start.mediaFormat` cannot be carried, or null when it is TWILIO_MEDIA_FORMAT. */
export function mediaFormatProblem(f: { encoding: string; sampleRate: number; channels: number }): string | null {
  const want = TWILIO_MEDIA_FORMAT;
  if (f.encoding === want.encoding && f.sampleRate === want.sampleRate && f.channels === want.channels) return null;
  const got = `${f.encoding.slice(0, 40).replace(/[^\x20-\x7e]/g, '?')} ${f.sampleRate} Hz ${f.channels} ch`;
  return `unsupported Twilio mediaFormat ${got} (expected ${want.encoding} ${want.sampleRate} Hz ${want.channels} ch)`;
}

/** A message Twilio sends to us. */
export const TwilioInbound = z.discriminatedUnion('event', [
  TwilioConnected,
  TwilioStart,
  TwilioMedia,
  TwilioDtmf,
  TwilioMarkIn,
  TwilioStop,
]);
export type TwilioInbound = z.infer<typeof TwilioInbound>;

/** A message we send to Twilio. */
export const TwilioOutbound = z.discriminatedUnion('event', [
  z.strictObject({
    event: z.literal('media'),
    streamSid: z.string().min(1),
    media: z.strictObject({ payload: z.string() }),
  }),
  z.strictObject({
    event: z.literal('mark'),
    streamSid: z.string().min(1),
    mark: z.strictObject({ name: z.string().min(1) }),
  }),
  z.strictObject({ event: z.literal('clear'), streamSid: z.string().min(1) }),
]);
export type TwilioOutbound = z.infer<typeof TwilioOutbound>;

/** Twilio's voice webhook form fields that Switchboard reads (all others are kept for the signature only). */
export const TwilioVoiceParams = z.looseObject({
  CallSid: z.string().regex(/^CA[0-9a-fA-F]{32}$/, 'CallSid must be CA + 32 hex digits'),
  AccountSid: z.string().min(1),
  From: z.string().default(''),
  To: z.string().default(''),
  Direction: z.string().default('inbound'),
  CallStatus: z.string().default(''),
});
export type TwilioVoiceParams = z.infer<typeof TwilioVoiceParams>;

export const parseTwilioInbound = (text: string) => parseJson(TwilioInbound, text, 'Twilio message');
export const parseTwilioOutbound = (text: string) => parseJson(TwilioOutbound, text, 'Twilio message');
