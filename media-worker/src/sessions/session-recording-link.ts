/**
 * A session's recording as its run sees it: started through a conference kept for the whole
 * session (each leg and the mix), with the spoken notice to the phone legs joined at that moment,
 * and finished at the end, where the files are reported to the edge (`recording.saved`, the
 * status) and, if they are complete within RECORDING_EVENT_WAIT_MS, to a client still connected.
 */
import type { ChannelMessage, ControlToEdge, RecordingSaved } from '@switchboard/protocol';
import type { WorkerConfig } from '../config.ts';
import { startRecording, type SessionRecording } from '../recording/session-recording.ts';
import type { SessionLegs } from './session-legs.ts';

/** How long the end of a recorded session waits for its files before closing the client's transport anyway. */
const RECORDING_EVENT_WAIT_MS = 3000;

export function recordSession(o: { sessionId: string; legs: SessionLegs; config: WorkerConfig; log: (m: string) => void; takeover: boolean }): SessionRecording {
  const text = o.config.RECORDING_NOTICE;
  const phoneLegs = () => o.legs.api.list().filter((l) => l.kind === 'phone' && l.state === 'joined').map((l) => l.legId);
  return startRecording({
    sessionId: o.sessionId,
    conference: o.legs.keepConference(),
    config: o.config,
    log: o.log,
    ...(text ? { notice: { text, legIds: phoneLegs } } : {}),
    // A takeover records its own part beside the lost worker's.
    ...(o.takeover ? { part: Math.floor(Date.now() / 1000) } : {}),
  });
}

/**
 * Closes the recording; resolves when the client has been told (or the wait is over) with the
 * promise of the edge's report, which the control channel must outlive.
 */
export async function finishRecording(
  recording: SessionRecording,
  send: (msg: Extract<ControlToEdge, { type: 'recording.saved' }>) => void,
  tellClient: (event: ChannelMessage) => void,
): Promise<{ reported: Promise<RecordingSaved> }> {
  const reported = recording.close().then((s) => {
    send({ type: 'recording.saved', ...s });
    return s;
  });
  const timeout = new Promise<null>((r) => setTimeout(() => r(null), RECORDING_EVENT_WAIT_MS));
  const s = await Promise.race([reported, timeout]);
  if (s) tellClient({ type: 'recording.saved', at: Date.now(), ...s });
  return { reported };
}
