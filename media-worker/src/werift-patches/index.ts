/**
 * Every process-wide change this worker makes to werift (0.25.2), in one place. Each one
 * replaces a method on a werift prototype, checks werift's shape first (throwing if an upgrade
 * moved what it patches, so tests fail loudly) and installs at most once per process.
 * `installWeriftPatches()` runs at start (main.ts) and where a WebRtcTransport can be made
 * without main (webrtc-transport.ts module scope); calling it again is a no-op.
 */
import { installFingerprintCache } from './dtls-fingerprint-cache.ts';
import { installNoDefaultStun } from './no-default-stun.ts';
import { installSctpReceiveWindow } from './sctp-receive-window.ts';
import { installSrtpKeyObjects } from './srtp-key-objects.ts';
import { installUdpMux } from './udp-mux-install.ts';
import { installUdpPortRange } from './udp-port-range.ts';

export function installWeriftPatches(): void {
  // SRTP ciphers keyed with KeyObjects made once per session, not a raw key per packet.
  installSrtpKeyObjects();
  // The DTLS certificate's fingerprint computed once, not on every read of localParameters.
  installFingerprintCache();
  // Ports of RTC_PORT_MIN..MAX taken by the bind itself, not probed and bound later (a race).
  installUdpPortRange();
  // With RTC_UDP_PORT, every call's host candidate on the worker's one shared UDP socket.
  installUdpMux();
  // A data channel's SCTP receiver that holds and works at most a bounded amount per association.
  installSctpReceiveWindow();
  // No public STUN server unless one is configured (werift would ask Google's on every answer).
  installNoDefaultStun();
}
