/**
 * A call's RTCP reports, one compound packet per interval (5 s ± half, randomised as RFC 3550
 * 6.2 asks): a sender report carrying the reception report of the caller's stream, and the SDES
 * CNAME. That is RFC 3550's minimum interval and libwebrtc's own for audio. werift runs two loops
 * instead, a sender report and a separate receiver report each every 0.5-1.5 s, each its own
 * SRTCP packet: at 20 echo calls those loops were 3-4% of the worker's CPU (`--cpu-prof`),
 * ten times the packets for the same information.
 *
 * werift's loops are kept from starting by holding their `rtcpRunning` flags (they return at once
 * when set); werift still receives and handles the peer's RTCP, and its sender still reads the
 * peer's reports of our stream (round-trip time from the LSR/DLSR we set here, as werift does).
 * The reports go out through werift's DTLS transport (its SRTCP context and selected pair), so
 * they follow the call over an ICE restart or a TURN relay.
 *
 * werift 0.25.2 does not type these internals; `start` checks their shape and returns null when
 * they differ (werift's own loops then report).
 */
import type { RTCRtpTransceiver } from 'werift';
import {
  compactNtp,
  RtcpReceiverInfo,
  RtcpRrPacket,
  RtcpSenderInfo,
  RtcpSourceDescriptionPacket,
  RtcpSrPacket,
  SourceDescriptionChunk,
  SourceDescriptionItem,
} from 'werift';

/** RFC 3550 6.2's minimum report interval, ms. */
export const RTCP_REPORT_INTERVAL_MS = 5000;
const SDES_CNAME = 1;

interface StreamStatsLike {
  fraction_lost: number;
  packets_lost: number;
  max_seq: number;
  jitter: number;
}
interface SenderLike {
  ssrc: number;
  cname?: string;
  stopped: boolean;
  rtcpRunning: boolean;
  ntpTimestamp: bigint;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  lastSRtimestamp?: number;
  lastSentSRTimestamp?: number;
}
interface ReceiverLike {
  stopped: boolean;
  rtcpRunning: boolean;
  remoteStreams: Record<string, StreamStatsLike | undefined>;
  lastSRtimestamp: Record<string, number | undefined>;
  receiveLastSRTimestamp: Record<string, number | undefined>;
}
interface DtlsLike {
  state: string;
  sendRtcp(packets: unknown[]): Promise<unknown>;
}

type Packet = RtcpSrPacket | RtcpRrPacket | RtcpSourceDescriptionPacket;

export class RtcpReports {
  private readonly sender: SenderLike;
  private readonly receiver: ReceiverLike;
  private readonly dtls: DtlsLike;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | null = null;
  /** Compound packets sent (tests read it). */
  sent = 0;

  private constructor(sender: SenderLike, receiver: ReceiverLike, dtls: DtlsLike, intervalMs: number) {
    this.sender = sender;
    this.receiver = receiver;
    this.dtls = dtls;
    this.intervalMs = intervalMs;
    // werift's runRtcp returns at once while this is set: its loops never start.
    sender.rtcpRunning = true;
    receiver.rtcpRunning = true;
    this.schedule();
  }

  /**
   * Takes over the transceiver's reports, or null (werift keeps reporting) when its internals are
   * not of the expected shape or one of its report loops already runs (call before connecting).
   */
  static start(transceiver: RTCRtpTransceiver, intervalMs: number = RTCP_REPORT_INTERVAL_MS): RtcpReports | null {
    const sender = transceiver.sender as unknown as Partial<SenderLike>;
    const receiver = transceiver.receiver as unknown as Partial<ReceiverLike>;
    const dtls = transceiver.dtlsTransport as unknown as Partial<DtlsLike> | undefined;
    if (!dtls || typeof dtls.sendRtcp !== 'function') return null;
    if (sender.rtcpRunning !== false || receiver.rtcpRunning !== false) return null;
    if (typeof sender.ssrc !== 'number' || typeof receiver.remoteStreams !== 'object' || typeof receiver.lastSRtimestamp !== 'object') return null;
    if (typeof receiver.receiveLastSRTimestamp !== 'object') return null;
    if (!(intervalMs > 0)) throw new RangeError(`RTCP report interval must be positive, not ${intervalMs} ms`);
    return new RtcpReports(sender as SenderLike, receiver as ReceiverLike, dtls as DtlsLike, intervalMs);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    const delay = this.intervalMs * (0.5 + Math.random());
    this.timer = setTimeout(() => {
      if (this.sender.stopped && this.receiver.stopped) {
        this.timer = null;
        return;
      }
      this.report();
      this.schedule();
    }, delay);
    this.timer.unref();
  }

  /** One compound report now, if DTLS is up (SRTCP keys exist only then). */
  private report(): void {
    if (this.dtls.state !== 'connected') return;
    const nowS = Date.now() / 1000;
    const r = this.receiver;
    const reports: RtcpReceiverInfo[] = [];
    if (!r.stopped) {
      for (const [ssrc, stream] of Object.entries(r.remoteStreams)) {
        if (!stream) continue;
        // LSR: the middle 32 bits of the last SR's NTP time; DLSR: time since it came, 1/65536 s.
        const lsr = r.lastSRtimestamp[ssrc] ?? 0;
        const receivedAt = r.receiveLastSRTimestamp[ssrc];
        const since = lsr && receivedAt !== undefined ? nowS - receivedAt : 0;
        reports.push(
          new RtcpReceiverInfo({
            ssrc: Number(ssrc),
            fractionLost: stream.fraction_lost,
            packetsLost: stream.packets_lost,
            highestSequence: stream.max_seq,
            jitter: stream.jitter,
            lsr,
            dlsr: since > 0 && since < 65536 ? Math.floor(since * 65536) : 0,
          }),
        );
      }
    }
    const s = this.sender;
    const packets: Packet[] = [];
    if (!s.stopped && s.packetCount > 0) {
      packets.push(
        new RtcpSrPacket({
          ssrc: s.ssrc,
          senderInfo: new RtcpSenderInfo({ ntpTimestamp: s.ntpTimestamp, rtpTimestamp: s.rtpTimestamp, packetCount: s.packetCount, octetCount: s.octetCount }),
          reports,
        }),
      );
      // What werift's sender keeps to match the peer's next report of our stream (round-trip time).
      s.lastSRtimestamp = compactNtp(s.ntpTimestamp);
      s.lastSentSRTimestamp = nowS;
    } else if (reports.length > 0) {
      packets.push(new RtcpRrPacket({ ssrc: s.ssrc, reports }));
    } else {
      return;
    }
    if (s.cname) {
      packets.push(
        new RtcpSourceDescriptionPacket({
          chunks: [new SourceDescriptionChunk({ source: s.ssrc, items: [new SourceDescriptionItem({ type: SDES_CNAME, text: s.cname })] })],
        }),
      );
    }
    this.sent++;
    this.dtls.sendRtcp(packets).catch(() => {
      // A send on a closing transport: the next report (or the close) settles it.
    });
  }
}
