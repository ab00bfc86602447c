import { base64ToMulaw, mulawToBase64 } from './mulaw.ts';

/**
 * The JSON messages of a bidirectional Twilio Media Stream, written from Twilio's documentation
 * (not from the project's own schemas, so the two can check each other).
 *
 * Twilio -> server: `connected` (no sequence number), then `start`, `media`, `dtmf`, `mark`, `stop`,
 * all numbered by one shared `sequenceNumber` counting from "1". Every number inside these
 * messages (sequenceNumber, chunk, timestamp) is a decimal string.
 */
export interface StreamIds {
  accountSid: string;
  callSid: string;
  streamSid: string;
}

export class TwilioStreamMessages {
  readonly ids: StreamIds;
  #seq = 0;
  #chunk = 0;

  constructor(ids: StreamIds) {
    this.ids = ids;
  }

  /** Messages numbered so far (the last sequenceNumber used). */
  get sequenceNumber(): number {
    return this.#seq;
  }

  /** Media chunks numbered so far. */
  get chunks(): number {
    return this.#chunk;
  }

  #next(): string {
    return String(++this.#seq);
  }

  connected(): string {
    return JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' });
  }

  start(customParameters: Record<string, string>): string {
    const { accountSid, callSid, streamSid } = this.ids;
    return JSON.stringify({
      event: 'start',
      sequenceNumber: this.#next(),
      start: {
        accountSid,
        streamSid,
        callSid,
        tracks: ['inbound'],
        customParameters,
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
      streamSid,
    });
  }

  /** One inbound chunk: `chunk` counts from "1", `timestamp` is ms since the stream started. */
  media(mulaw: Uint8Array, timestampMs: number): string {
    return JSON.stringify({
      event: 'media',
      sequenceNumber: this.#next(),
      media: { track: 'inbound', chunk: String(++this.#chunk), timestamp: String(Math.round(timestampMs)), payload: mulawToBase64(mulaw) },
      streamSid: this.ids.streamSid,
    });
  }

  dtmf(digit: string): string {
    return JSON.stringify({ event: 'dtmf', streamSid: this.ids.streamSid, sequenceNumber: this.#next(), dtmf: { track: 'inbound_track', digit } });
  }

  /** The echo of a server mark, sent when playback reaches it (or when `clear` drops it). */
  mark(name: string): string {
    return JSON.stringify({ event: 'mark', sequenceNumber: this.#next(), streamSid: this.ids.streamSid, mark: { name } });
  }

  stop(): string {
    const { accountSid, callSid, streamSid } = this.ids;
    return JSON.stringify({ event: 'stop', sequenceNumber: this.#next(), streamSid, stop: { accountSid, callSid } });
  }
}

/** DTMF digits a Media Stream can carry. */
export const DTMF_DIGIT = /^[0-9*#A-D]$/;

/** Server -> Twilio: audio to play, a mark to echo, or a request to drop buffered audio. */
export type ServerMessage = { event: 'media'; mulaw: Uint8Array } | { event: 'mark'; name: string } | { event: 'clear' };

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * Checks one server frame against Twilio's documented shapes: a text frame of JSON with `event`
 * media/mark/clear, this stream's `streamSid`, `media.payload` base64, `mark.name` a non-empty
 * string. Throws an Error naming the problem; the caller records it as a protocol error.
 */
export function parseServerMessage(data: string, streamSid: string): ServerMessage {
  let msg: unknown;
  try {
    msg = JSON.parse(data);
  } catch {
    throw new Error(`not JSON: ${data.slice(0, 60)}`);
  }
  if (!isObject(msg)) throw new Error('not a JSON object');
  if (msg.streamSid !== streamSid) throw new Error(`${String(msg.event)}: streamSid ${JSON.stringify(msg.streamSid)} is not this stream's ${streamSid}`);
  switch (msg.event) {
    case 'media': {
      if (!isObject(msg.media) || typeof msg.media.payload !== 'string') throw new Error('media without media.payload');
      return { event: 'media', mulaw: base64ToMulaw(msg.media.payload) };
    }
    case 'mark': {
      if (!isObject(msg.mark) || typeof msg.mark.name !== 'string' || msg.mark.name === '') throw new Error('mark without mark.name');
      return { event: 'mark', name: msg.mark.name };
    }
    case 'clear':
      return { event: 'clear' };
    default:
      throw new Error(`unknown event ${JSON.stringify(msg.event)}`);
  }
}
