import { TwilioStart } from '@switchboard/protocol';
import { z } from 'zod';

/** Who is on the far end of a session's peer socket. */
export type PeerKind = 'twilio' | 'telnyx' | 'plivo' | 'stream';

/** What the session needs of a stream's `start`: whose call it is, and Twilio's credential. */
export type PeerStart =
  | { kind: 'start'; callId: string; streamId: string; token: string | undefined }
  /** A frame the provider sends before `start` (Twilio's and Telnyx's `connected`): not relayed. */
  | { kind: 'before' }
  | { kind: 'bad'; why: string };

const TelnyxStartShape = z.looseObject({
  event: z.literal('start'),
  stream_id: z.string().min(1),
  start: z.looseObject({ call_control_id: z.string().min(1) }),
});
const PlivoStartShape = z.looseObject({
  event: z.literal('start'),
  start: z.looseObject({ callId: z.string().min(1), streamId: z.string().min(1) }),
});
const StreamStartShape = z.looseObject({ type: z.literal('start') });

/**
 * Reads one text frame of a stream that has not started: the only frames of a stream the edge
 * parses (the worker parses the rest once, with the same schemas). The full schemas of each
 * protocol are the worker's to apply; here only the fields the session checks.
 */
export function readPeerStart(kind: PeerKind, text: string): PeerStart {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { kind: 'bad', why: 'a frame before start is not JSON' };
  }
  const event = typeof raw === 'object' && raw !== null ? (raw as { event?: unknown; type?: unknown }) : {};
  if (kind !== 'stream' && kind !== 'plivo' && event.event === 'connected') return { kind: 'before' };
  switch (kind) {
    case 'twilio': {
      const r = TwilioStart.safeParse(raw);
      if (!r.success) return { kind: 'bad', why: 'expected start after connected' };
      return { kind: 'start', callId: r.data.start.callSid, streamId: r.data.streamSid, token: r.data.start.customParameters['token'] };
    }
    case 'telnyx': {
      const r = TelnyxStartShape.safeParse(raw);
      if (!r.success) return { kind: 'bad', why: 'expected start after connected' };
      return { kind: 'start', callId: r.data.start.call_control_id, streamId: r.data.stream_id, token: undefined };
    }
    case 'plivo': {
      const r = PlivoStartShape.safeParse(raw);
      if (!r.success) return { kind: 'bad', why: 'expected start first' };
      return { kind: 'start', callId: r.data.start.callId, streamId: r.data.start.streamId, token: undefined };
    }
    case 'stream': {
      const r = StreamStartShape.safeParse(raw);
      if (!r.success) return { kind: 'bad', why: 'the first message must be {"type":"start",...}' };
      return { kind: 'start', callId: '', streamId: '', token: undefined };
    }
  }
}
