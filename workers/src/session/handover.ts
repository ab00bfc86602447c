import { mintControlToken, type ControlToWorker, type LegHandover } from '@switchboard/protocol';
import type { Config } from '../config.ts';
import { mintIceServers } from '../turn/mint.ts';
import { resumeTokenSubject } from './media-token.ts';
import type { SessionRecord } from './record.ts';

/**
 * The `session` message for the worker that claimed: the offer (the latest: a resumed session's
 * new one) or the call, the worker's own TURN credentials (WebRTC only), its resume token, whether
 * it takes over a session another worker lost (with the legs still up), and the handler's last checkpointed state. Throws
 * when the TURN provider fails.
 */
export async function buildHandover(rec: SessionRecord, config: Config, takeover = false, legs: LegHandover[] = []): Promise<ControlToWorker> {
  // Phone and stream audio reaches the worker over its media socket to this object: no ICE, so no TURN credentials.
  const ice = rec.kind === 'webrtc' ? await mintIceServers(config, `worker:${rec.id}`) : { iceServers: [], expiresAt: null };
  const msg: ControlToWorker = {
    type: 'session',
    sessionId: rec.id,
    kind: rec.kind,
    iceServers: ice.iceServers,
    iceServersExpiresAt: ice.expiresAt,
    endsAt: rec.endsAt,
    resumeToken: await mintControlToken(config.CONTROL_SECRET, resumeTokenSubject(rec.id), rec.endsAt),
  };
  if (rec.offer) msg.offer = rec.offer;
  if (rec.call) msg.call = rec.call;
  if (takeover) msg.takeover = true;
  if (rec.checkpoint !== undefined) msg.state = rec.checkpoint;
  if (legs.length > 0) msg.legs = legs;
  if (rec.record) msg.record = true;
  return msg;
}
