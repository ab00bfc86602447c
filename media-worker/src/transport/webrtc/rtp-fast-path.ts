/**
 * The per-packet RTP path of an established call, beside werift's. werift carries each audio
 * packet through about a dozen layers (a STUN parse attempt on every datagram, four events that
 * each start an async function, RtpPacket objects parsed, cloned and re-serialized, a promise
 * chain per send); skipping them cuts the worker's CPU per echo session by a quarter to a third
 * (`npm run bench`, RTP_FAST_PATH on/off at 20 sessions). This path takes
 * the call's Opus RTP straight off the selected pair's UDP socket and puts reply RTP straight
 * onto it, with the same SRTP contexts werift negotiated (so rollover counters stay shared), and
 * keeps werift's counters that its RTCP reports and getStats read. Incoming AES-GCM packets are
 * decrypted by srtp-gcm-receive.ts on werift's rollover state; other profiles by werift's context.
 * Incoming RTP is handled in the frame's batch of every call (receive-batch.ts), not on arrival.
 *
 * Everything else stays with werift: STUN (consent), DTLS and SCTP (the data channel), RTCP both
 * ways (rtcp-reports.ts sends ours through werift's transport), the first packet of each incoming
 * SSRC (werift creates its receive statistics then), TURN-relayed pairs, and any send while the
 * selected pair is not this one (ICE restart).
 *
 * werift 0.25.2 does not type these internals; the shapes below are checked when attaching and a
 * mismatch means no fast path (werift's own path carries the call), never a broken call.
 */
import type { Socket } from 'node:dgram';
import type { RTCRtpTransceiver } from 'werift';
import { ReceiveBatch, type BatchTarget } from '../receive-batch.ts';
import { SrtpGcmReceiver, type SrtpRemoteContextLike } from './srtp-gcm-receive.ts';

/** seq and timestamp from the RTP header; payload without padding (a view into the decrypted packet). */
export type RtpSink = (sequenceNumber: number, timestamp: number, payload: Buffer) => void;

type Addr = [string, number];
interface UdpTransportLike {
  type: 'udp';
  socket: Socket;
  closed: boolean;
  onData: (data: Buffer, addr: Addr) => void;
}
interface PairLike {
  protocol: { type?: string; transport?: unknown };
  remoteAddr: Addr;
  packetsSent: number;
  bytesSent: number;
  packetsReceived: number;
  bytesReceived: number;
}
interface RtpHeaderLike {
  ssrc: number;
  sequenceNumber: number;
  timestamp: number;
  payloadOffset: number;
  paddingSize: number;
  serializeSize: number;
}
interface SrtpContextLike {
  decryptRtp(packet: Buffer): [Buffer, RtpHeaderLike];
  encryptRtp(payload: Buffer, header: { ssrc: number; sequenceNumber: number; serializeSize: number; serialize(size: number): Buffer }): Buffer;
}
interface DtlsLike {
  state: string;
  srtp?: { localContext: SrtpContextLike; remoteContext: SrtpContextLike };
  iceTransport: { connection: { nominated?: PairLike } };
  bytesReceived: number;
  packetsReceived: number;
  bytesSent: number;
  packetsSent: number;
}
interface SenderLike {
  ssrc: number;
  stopped: boolean;
  headerExtensions: unknown[];
  redRedundantPayloadType?: number;
  sequenceNumber?: number;
  timestamp?: number;
  rtpTimestamp: number;
  ntpTimestamp: bigint;
  octetCount: number;
  packetCount: number;
  headerBytesSent: number;
  runRtcp(): Promise<void>;
}
interface ReceiverLike {
  stopped: boolean;
  remoteStreams: Record<number, { add(packet: { header: Pick<RtpHeaderLike, 'sequenceNumber' | 'timestamp' | 'serializeSize'>; payload: Buffer }): void } | undefined>;
}

const RTP_HEADER_BYTES = 12;
/** 1900-01-01 (NTP epoch) to 1970-01-01, seconds. */
const NTP_UNIX_OFFSET_S = 2_208_988_800;

/** Whether a datagram is RTP (not RTCP) of this payload type: version 2, PT in the second byte. */
function isRtpOf(data: Buffer, payloadType: number): boolean {
  return data.length > RTP_HEADER_BYTES && (data[0]! & 0xc0) === 0x80 && (data[1]! & 0x7f) === payloadType;
}

/** 64-bit NTP time of `unixMs` (seconds since 1900 in the high word, binary fraction in the low). */
export function ntpTimestamp(unixMs: number): bigint {
  const seconds = Math.floor(unixMs / 1000);
  const fraction = Math.floor(((unixMs - seconds * 1000) / 1000) * 0x1_0000_0000);
  return (BigInt(seconds + NTP_UNIX_OFFSET_S) << 32n) | BigInt(fraction);
}

export class RtpFastPath implements BatchTarget<Addr> {
  private readonly transport: UdpTransportLike;
  private readonly werift: UdpTransportLike['onData'];
  private readonly dtls: DtlsLike & { srtp: NonNullable<DtlsLike['srtp']> };
  private readonly pair: PairLike;
  private readonly sender: SenderLike;
  private readonly receiver: ReceiverLike;
  private readonly payloadType: number;
  private readonly sink: RtpSink;
  /** Direct AES-GCM decryption (srtp-gcm-receive.ts); null: werift's decryptRtp (other profiles). */
  private readonly gcm: SrtpGcmReceiver | null;
  /** The header fields werift's receive statistics read, one object reused for every packet. */
  private readonly statsHeader = { sequenceNumber: 0, timestamp: 0, serializeSize: 0 };
  private detached = false;
  /** Packets this path carried each way (tests check that it, not werift, did). */
  received = 0;
  sent = 0;

  private constructor(
    dtls: DtlsLike & { srtp: NonNullable<DtlsLike['srtp']> },
    pair: PairLike,
    sender: SenderLike,
    receiver: ReceiverLike,
    payloadType: number,
    sink: RtpSink,
    batch: ReceiveBatch<Addr> | null,
  ) {
    this.dtls = dtls;
    this.pair = pair;
    this.sender = sender;
    this.receiver = receiver;
    this.payloadType = payloadType;
    this.sink = sink;
    this.gcm = SrtpGcmReceiver.from(dtls.srtp.remoteContext as unknown as SrtpRemoteContextLike);
    this.transport = pair.protocol.transport as UdpTransportLike;
    this.werift = this.transport.onData;
    // The call's RTP waits for the tick's batch (receive-batch.ts); STUN, DTLS and RTCP go to werift at once.
    this.transport.onData = batch
      ? (data, addr) => {
          if (isRtpOf(data, this.payloadType)) batch.push(this, data, addr);
          else this.werift(data, addr);
        }
      : (data, addr) => this.deliver(data, addr);
    // werift starts its RTCP report loops on the first packet each way, and this path may carry
    // them all (a no-op where rtcp-reports.ts reports instead: it holds the loops' running flags).
    void sender.runRtcp();
  }

  /**
   * The fast path for a connected transceiver, or null where werift's path must carry the call:
   * SRTP not started, no selected pair, a TURN-relayed or TCP pair, header extensions or RED to
   * send (our answers negotiate neither), or werift internals not of the expected shape.
   */
  static attach(
    transceiver: RTCRtpTransceiver,
    payloadType: number,
    sink: RtpSink,
    /** Where incoming RTP waits for its tick (null: handled on arrival). */
    batch: ReceiveBatch<Addr> | null = ReceiveBatch.shared(),
  ): RtpFastPath | null {
    const dtls = transceiver.dtlsTransport as unknown as DtlsLike | undefined;
    const sender = transceiver.sender as unknown as SenderLike;
    const receiver = transceiver.receiver as unknown as ReceiverLike;
    if (!dtls || dtls.state !== 'connected' || !dtls.srtp) return null;
    const { localContext, remoteContext } = dtls.srtp;
    if (typeof localContext?.encryptRtp !== 'function' || typeof remoteContext?.decryptRtp !== 'function') return null;
    const pair = dtls.iceTransport?.connection?.nominated;
    const transport = pair?.protocol?.transport as Partial<UdpTransportLike> | undefined;
    if (!pair || transport?.type !== 'udp' || typeof transport.onData !== 'function' || typeof transport.socket?.send !== 'function') return null;
    if (!Array.isArray(sender.headerExtensions) || sender.headerExtensions.length > 0 || sender.redRedundantPayloadType) return null;
    if (typeof sender.runRtcp !== 'function' || typeof receiver.remoteStreams !== 'object') return null;
    return new RtpFastPath(dtls as DtlsLike & { srtp: NonNullable<DtlsLike['srtp']> }, pair, sender, receiver, payloadType, sink, batch);
  }

  /**
   * Sends one RTP packet (12-byte header, no extensions) on the selected pair; false when this
   * path cannot (closed, or the selected pair changed) and werift's sender must.
   */
  send(payload: Buffer, sequenceNumber: number, timestamp: number, marker: boolean): boolean {
    if (!this.usable() || this.sender.stopped) return false;
    const ssrc = this.sender.ssrc;
    const header = Buffer.allocUnsafe(RTP_HEADER_BYTES);
    header[0] = 0x80;
    header[1] = (marker ? 0x80 : 0) | this.payloadType;
    header.writeUInt16BE(sequenceNumber, 2);
    header.writeUInt32BE(timestamp >>> 0, 4);
    header.writeUInt32BE(ssrc >>> 0, 8);
    const packet = this.dtls.srtp.localContext.encryptRtp(payload, {
      ssrc,
      sequenceNumber,
      serializeSize: RTP_HEADER_BYTES,
      serialize: () => header,
    });
    const [address, port] = this.pair.remoteAddr;
    this.transport.socket.send(packet, port, address);
    this.sent++;
    // What werift's sender would have recorded: its sender reports and getStats read these.
    const s = this.sender;
    s.sequenceNumber = sequenceNumber;
    s.timestamp = timestamp >>> 0;
    s.rtpTimestamp = timestamp >>> 0;
    s.ntpTimestamp = ntpTimestamp(Date.now());
    s.octetCount += payload.length;
    s.packetCount = (s.packetCount + 1) >>> 0;
    s.headerBytesSent += RTP_HEADER_BYTES;
    this.dtls.bytesSent += packet.length;
    this.dtls.packetsSent++;
    this.pair.packetsSent++;
    this.pair.bytesSent += packet.length;
    return true;
  }

  /** Whether incoming packets are decrypted by srtp-gcm-receive.ts (AES-GCM) rather than werift. */
  get decryptsDirectly(): boolean {
    return this.gcm !== null;
  }

  /** Handles one datagram from the socket: the call's RTP here, anything else (or after detach) by werift. */
  deliver(data: Buffer, addr: Addr): void {
    if (!this.take(data, addr)) this.werift(data, addr);
  }

  /** Gives the socket back to werift alone. */
  detach(): void {
    if (this.detached) return;
    this.detached = true;
    if (this.transport.onData !== this.werift) this.transport.onData = this.werift;
  }

  private usable(): boolean {
    return !this.detached && !this.transport.closed && this.dtls.state === 'connected' && this.dtls.iceTransport.connection.nominated === this.pair;
  }

  /** Handles a datagram if it is the call's RTP from the selected peer and its SSRC is known; else werift does. */
  private take(data: Buffer, addr: Addr): boolean {
    if (!isRtpOf(data, this.payloadType) || !this.usable()) return false;
    const [address, port] = this.pair.remoteAddr;
    if (addr[1] !== port || addr[0] !== address || this.receiver.stopped) return false;
    const ssrc = data.readUInt32BE(8);
    const stats = this.receiver.remoteStreams[ssrc];
    if (!stats) return false;
    let sequenceNumber: number;
    let timestamp: number;
    let headerBytes: number;
    let payload: Buffer;
    if (this.gcm) {
      if (!this.gcm.knows(ssrc)) return false;
      const p = this.gcm.decrypt(data);
      if (!p) return true; // failed authentication or malformed: dropped, as werift drops it
      ({ sequenceNumber, timestamp, headerBytes, payload } = p);
    } else {
      let decrypted: Buffer;
      let header: RtpHeaderLike;
      try {
        [decrypted, header] = this.dtls.srtp.remoteContext.decryptRtp(data);
      } catch {
        return true;
      }
      ({ sequenceNumber, timestamp, serializeSize: headerBytes } = header);
      payload = decrypted.subarray(header.payloadOffset, decrypted.length - header.paddingSize);
    }
    this.received++;
    this.dtls.bytesReceived += data.length;
    this.dtls.packetsReceived++;
    this.pair.packetsReceived++;
    this.pair.bytesReceived += data.length;
    // werift's receive statistics (its receiver reports and getStats) read these three fields.
    const h = this.statsHeader;
    h.sequenceNumber = sequenceNumber;
    h.timestamp = timestamp;
    h.serializeSize = headerBytes;
    stats.add({ header: h, payload });
    this.sink(sequenceNumber, timestamp, payload);
    return true;
  }
}
