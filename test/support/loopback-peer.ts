import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { onlyFromInterface } from '../../media-worker/src/transport/webrtc/host-candidates.ts';

/** Opus as a browser offers it: `opus/48000/2`, payload type 111, in-band FEC. */
export const OPUS_PAYLOAD_TYPE = 111;

/**
 * A werift client peer configured like a browser offering BUNDLE, on loopback only: host
 * candidates from 127.0.0.1 only, pairs only from that interface, no IPv6. werift asks its
 * hard-wired public STUN server when no `stun:` URL is given; tests and benchmarks must not reach
 * it, so without ICE servers of the caller's a STUN URL on a closed loopback port is given
 * (it refuses at once). One transport for audio and data: with werift's default (max-compat) the
 * data m-line gets a second transport that is orphaned once the answer bundles, and pc.close()
 * never closes its UDP sockets.
 */
export function loopbackPeer(overrides: NonNullable<ConstructorParameters<typeof RTCPeerConnection>[0]> = {}): RTCPeerConnection {
  return new RTCPeerConnection({
    codecs: {
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: OPUS_PAYLOAD_TYPE, parameters: 'minptime=10;useinbandfec=1' })],
    },
    iceServers: [{ urls: 'stun:127.0.0.1:9' }],
    iceStunGatherTimeout: 1,
    bundlePolicy: 'max-bundle',
    iceUseIpv6: false,
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceFilterCandidatePair: onlyFromInterface('127.0.0.1'),
    ...overrides,
  });
}

/** Resolves once the peer is connected (ICE and DTLS). */
export function connected(pc: RTCPeerConnection): Promise<void> {
  if (pc.connectionState === 'connected') return Promise.resolve();
  return new Promise((resolve) => pc.connectionStateChange.subscribe((s) => s === 'connected' && resolve()));
}
