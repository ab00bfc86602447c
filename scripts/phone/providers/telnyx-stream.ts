import { randomUUID } from 'node:crypto';
import { decodePcm, describeCodec, fromBase64, toBase64 } from '../pcm.ts';
import type { ServerMessage, StreamProtocol, StreamTarget } from './types.ts';

/**
 * A Telnyx media stream, from its documented frames. Telnyx -> server: `connected`, then `start`
 * (stream_id, call_control_id, custom_parameters, media_format), `media` (track, chunk,
 * timestamp, base64 RTP payload without headers), `dtmf`, `mark` (a played mark), `stop`; every
 * frame after `connected` numbered by `sequence_number` (a decimal string from "1").
 * Server -> Telnyx (bidirectional rtp): `media` (20 ms to 30 s of audio per chunk, in the
 * stream's bidirectional codec), `mark`, `clear` (drops queued audio; Telnyx sends queued marks
 * back).
 */
export interface TelnyxStreamIds {
  accountSid: string;
  callSid: string;
  from: string;
  to: string;
}

/** Limits of one outbound RTP media chunk. */
export const MIN_CHUNK_MS = 20;
export const MAX_CHUNK_MS = 30_000;

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

export function telnyxStream(ids: TelnyxStreamIds, target: StreamTarget): StreamProtocol {
  const streamId = randomUUID();
  const sessionId = randomUUID();
  let seq = 0;
  let chunk = 0;
  const next = () => String(++seq);
  const encodingName = (e: StreamTarget['inbound']) => (e.encoding === 'mulaw' ? 'PCMU' : 'L16');
  return {
    streamId,
    opening: () => [
      JSON.stringify({ event: 'connected', version: '1.0.0' }),
      JSON.stringify({
        event: 'start',
        sequence_number: next(),
        start: {
          user_id: ids.accountSid,
          call_control_id: ids.callSid,
          call_session_id: sessionId,
          from: ids.from,
          to: ids.to,
          custom_parameters: target.parameters,
          media_format: { encoding: encodingName(target.inbound), sample_rate: target.inbound.rate, channels: 1 },
        },
        stream_id: streamId,
      }),
    ],
    media: (payload, ts) =>
      JSON.stringify({
        event: 'media',
        sequence_number: next(),
        media: { track: 'inbound', chunk: String(++chunk), timestamp: String(Math.round(ts)), payload: toBase64(payload) },
        stream_id: streamId,
      }),
    dtmf: (digit) => JSON.stringify({ event: 'dtmf', stream_id: streamId, occurred_at: new Date().toISOString(), sequence_number: next(), dtmf: { digit } }),
    markReached: (name) => JSON.stringify({ event: 'mark', sequence_number: next(), stream_id: streamId, mark: { name } }),
    clearAnswersMarks: true,
    cleared: () => null,
    stop: () => JSON.stringify({ event: 'stop', sequence_number: next(), stop: { user_id: ids.accountSid, call_control_id: ids.callSid }, stream_id: streamId }),
    parse: (data, isBinary) => parseTelnyxServerFrame(data, isBinary, streamId, target),
  };
}

/** Checks one server frame against Telnyx's documented client frames. */
export function parseTelnyxServerFrame(data: string, isBinary: boolean, streamId: string, target: StreamTarget): ServerMessage {
  if (isBinary) throw new Error('binary frame (Telnyx takes JSON text frames)');
  let msg: unknown;
  try {
    msg = JSON.parse(data);
  } catch {
    throw new Error(`not JSON: ${data.slice(0, 60)}`);
  }
  if (!isObject(msg)) throw new Error('not a JSON object');
  if (msg.stream_id !== undefined && msg.stream_id !== streamId) throw new Error(`${String(msg.event)}: stream_id ${JSON.stringify(msg.stream_id)} is not this stream's ${streamId}`);
  switch (msg.event) {
    case 'media': {
      if (target.playbackProblem) throw new Error(`media: ${target.playbackProblem}`);
      if (!isObject(msg.media) || typeof msg.media.payload !== 'string') throw new Error('media without media.payload');
      const pcm = decodePcm(fromBase64(msg.media.payload), target.outbound);
      const ms = (pcm.length / target.outbound.rate) * 1000;
      if (ms < MIN_CHUNK_MS || ms > MAX_CHUNK_MS) {
        throw new Error(`media chunk of ${ms.toFixed(1)} ms (${describeCodec(target.outbound)}): Telnyx takes ${MIN_CHUNK_MS} ms to ${MAX_CHUNK_MS / 1000} s per chunk`);
      }
      return { event: 'media', pcm };
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
