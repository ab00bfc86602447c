import type { IceServer } from '@switchboard/protocol';
import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { withUdpMux } from '../../werift-patches/udp-mux-install.ts';
import type { UdpMux } from '../../werift-patches/udp-mux.ts';
import { onlyFromInterface } from './host-candidates.ts';
import type { OfferedOpus } from './opus-offer.ts';
import { withStunFromTurn } from './stun-from-turn.ts';

/** Gathering is waited for before answering (WHIP has no server-side trickle); bounded. */
const GATHER_LIMIT_MS = 5000;

/** What a call's peer connection is made from (WebRtcOptions' ICE part). */
export interface PeerConnectionOptions {
  iceServers: IceServer[];
  icePolicy: 'all' | 'relay';
  portRange: [number, number] | undefined;
  interfaceAddress: string;
  udpMux?: UdpMux | undefined;
}

/** A werift peer connection for one call: the offer's Opus only, and ICE as configured. */
export function newPeerConnection(opus: OfferedOpus, o: PeerConnectionOptions): RTCPeerConnection {
  return new RTCPeerConnection({
    codecs: {
      audio: [
        new RTCRtpCodecParameters({
          mimeType: 'audio/opus',
          clockRate: 48000,
          channels: 2,
          payloadType: opus.payloadType,
          parameters: opus.fmtp,
        }),
      ],
    },
    // An explicit list, even empty: werift otherwise adds a public STUN server and waits for it.
    iceServers: toWeriftIceServers(o.iceServers),
    // With no STUN or TURN server there is nothing to gather but host candidates, and werift
    // would otherwise ask its hard-wired public STUN server (stun.l.google.com) on every answer.
    // ICE-lite gathers host candidates only; the browser, a full agent, runs the checks.
    iceLite: o.iceServers.length === 0,
    iceTransportPolicy: o.icePolicy,
    // On the shared socket (udp-mux-install.ts) or a socket of the call's own in the range.
    icePortRange: o.udpMux ? undefined : o.portRange,
    iceInterfaceAddresses: o.udpMux ? withUdpMux(o.udpMux, o.interfaceAddress || undefined) : o.interfaceAddress ? { udp4: o.interfaceAddress } : undefined,
    // werift skips loopback interfaces unless they are named.
    iceAdditionalHostAddresses: o.interfaceAddress.startsWith('127.') ? [o.interfaceAddress] : [],
    iceFilterCandidatePair: o.interfaceAddress ? onlyFromInterface(o.interfaceAddress) : undefined,
    iceUseIpv6: false,
  });
}

/** Resolves once local candidates are gathered, or GATHER_LIMIT_MS has passed. */
export function gathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, GATHER_LIMIT_MS);
    const sub = pc.iceGatheringStateChange.subscribe((s) => {
      if (s === 'complete') done();
    });
    function done() {
      clearTimeout(timer);
      sub.unSubscribe();
      resolve();
    }
  });
}

/** werift's ICE servers; with TURN servers and no STUN server, the TURN server doubles as STUN (see withStunFromTurn). */
export function toWeriftIceServers(servers: IceServer[]) {
  return withStunFromTurn(servers).map((s) => ({ urls: s.urls, ...(s.username ? { username: s.username } : {}), ...(s.credential ? { credential: s.credential } : {}) }));
}
