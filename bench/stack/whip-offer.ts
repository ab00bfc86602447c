import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { onlyFromInterface } from '../../media-worker/src/transport/webrtc/host-candidates.ts';

/**
 * A browser-like WHIP offer from a real werift peer on loopback (Opus, the `events` channel,
 * BUNDLE), gathered completely before it is sent. The peer is returned so the caller can close it.
 */
export async function makeOffer(): Promise<{ sdp: string; pc: RTCPeerConnection }> {
  const pc = new RTCPeerConnection({
    codecs: { audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111 })] },
    iceServers: [{ urls: 'stun:127.0.0.1:9' }],
    iceStunGatherTimeout: 1,
    bundlePolicy: 'max-bundle',
    iceUseIpv6: false,
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceFilterCandidatePair: onlyFromInterface('127.0.0.1'),
  });
  pc.addTransceiver('audio', { direction: 'sendrecv' });
  pc.createDataChannel('events');
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise<void>((r) => {
    if (pc.iceGatheringState === 'complete') r();
    else pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && r());
  });
  return { sdp: pc.localDescription!.sdp, pc };
}
