import type { RTCPeerConnection } from 'werift';
import { loopbackPeer } from '../../test/support/loopback-peer.ts';

/**
 * A browser-like WHIP offer from a real werift peer on loopback (Opus, the `events` channel,
 * BUNDLE), gathered completely before it is sent. The peer is returned so the caller can close it.
 */
export async function makeOffer(): Promise<{ sdp: string; pc: RTCPeerConnection }> {
  const pc = loopbackPeer();
  pc.addTransceiver('audio', { direction: 'sendrecv' });
  pc.createDataChannel('events');
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise<void>((r) => {
    if (pc.iceGatheringState === 'complete') r();
    else pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && r());
  });
  return { sdp: pc.localDescription!.sdp, pc };
}
