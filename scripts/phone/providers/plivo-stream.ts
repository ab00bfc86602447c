import { randomUUID } from 'node:crypto';
import { decodePcm, describeCodec, fromBase64, toBase64 } from '../pcm.ts';
import type { ServerMessage, StreamProtocol, StreamTarget } from './types.ts';

/**
 * A Plivo audio stream, from its documented events. Plivo -> server: `start` (callId, streamId,
 * accountId, tracks, mediaFormat), `media` (track, timestamp in unix ms, chunk, payload), `dtmf`,
 * `playedStream` (a checkpoint whose preceding audio has played), `clearedAudio`; numbered by a
 * numeric `sequenceNumber` from 1. No stop event: the socket closes at hang-up.
 * Server -> Plivo: `playAudio` (media.contentType audio/x-l16 at 8000 or 16000, or audio/x-mulaw
 * at 8000; media.sampleRate; media.payload), `checkpoint` (streamId, name), `clearAudio`
 * (streamId; buffered audio is dropped and its checkpoints are never acknowledged).
 */
export interface PlivoStreamIds {
  accountId: string;
  callUuid: string;
  extraHeaders: string;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const CONTENT_TYPE = { mulaw: 'audio/x-mulaw', l16: 'audio/x-l16' } as const;

export function plivoStream(ids: PlivoStreamIds, target: StreamTarget): StreamProtocol {
  const streamId = randomUUID();
  const startedAt = Date.now();
  let seq = 0;
  let chunk = 0;
  const extra = { extra_headers: ids.extraHeaders };
  return {
    streamId,
    opening: () => [
      JSON.stringify({
        event: 'start',
        sequenceNumber: ++seq,
        start: {
          callId: ids.callUuid,
          streamId,
          accountId: ids.accountId,
          tracks: ['inbound'],
          mediaFormat: { encoding: CONTENT_TYPE[target.inbound.encoding], sampleRate: target.inbound.rate },
        },
        ...extra,
      }),
    ],
    media: (payload, ts) =>
      JSON.stringify({
        event: 'media',
        sequenceNumber: ++seq,
        streamId,
        media: { track: 'inbound', timestamp: String(startedAt + Math.round(ts)), chunk: ++chunk, payload: toBase64(payload) },
        ...extra,
      }),
    dtmf: (digit) => JSON.stringify({ event: 'dtmf', sequenceNumber: ++seq, streamId, dtmf: { track: 'inbound', digit, timestamp: String(Date.now()) }, ...extra }),
    markReached: (name) => JSON.stringify({ event: 'playedStream', sequenceNumber: ++seq, streamId, name }),
    clearAnswersMarks: false,
    cleared: () => JSON.stringify({ sequenceNumber: ++seq, event: 'clearedAudio', streamId }),
    stop: () => null,
    parse: (data, isBinary) => parsePlivoServerEvent(data, isBinary, streamId, target),
  };
}

/** Checks one server event against Plivo's documented events to Plivo. */
export function parsePlivoServerEvent(data: string, isBinary: boolean, streamId: string, target: StreamTarget): ServerMessage {
  if (isBinary) throw new Error('binary frame (Plivo takes JSON text events)');
  let msg: unknown;
  try {
    msg = JSON.parse(data);
  } catch {
    throw new Error(`not JSON: ${data.slice(0, 60)}`);
  }
  if (!isObject(msg)) throw new Error('not a JSON object');
  const sameStream = () => {
    if (msg.streamId !== streamId) throw new Error(`${String(msg.event)}: streamId ${JSON.stringify(msg.streamId)} is not this stream's ${streamId}`);
  };
  switch (msg.event) {
    case 'playAudio': {
      if (target.playbackProblem) throw new Error(`playAudio: ${target.playbackProblem}`);
      if (msg.streamId !== undefined) sameStream();
      const m = msg.media;
      if (!isObject(m) || typeof m.payload !== 'string') throw new Error('playAudio without media.payload');
      if (m.contentType !== 'audio/x-l16' && m.contentType !== 'audio/x-mulaw') throw new Error(`playAudio media.contentType ${JSON.stringify(m.contentType)} is not audio/x-l16 or audio/x-mulaw`);
      const rate = Number(m.sampleRate);
      const allowed = m.contentType === 'audio/x-l16' ? [8000, 16000] : [8000];
      if (m.sampleRate === undefined || !allowed.includes(rate)) throw new Error(`playAudio media.sampleRate ${JSON.stringify(m.sampleRate)} is not allowed for ${m.contentType} (${allowed.join(', ')})`);
      const codec = target.outbound;
      if (CONTENT_TYPE[codec.encoding] !== m.contentType || codec.rate !== rate) {
        throw new Error(`playAudio ${m.contentType} at ${rate} Hz on a ${describeCodec(codec)} stream (the simulator plays the stream's contentType only)`);
      }
      return { event: 'media', pcm: decodePcm(fromBase64(m.payload), codec) };
    }
    case 'checkpoint': {
      sameStream();
      if (typeof msg.name !== 'string' || msg.name === '') throw new Error('checkpoint without name');
      return { event: 'mark', name: msg.name };
    }
    case 'clearAudio':
      sameStream();
      return { event: 'clear' };
    default:
      throw new Error(`unknown event ${JSON.stringify(msg.event)}`);
  }
}
