import { RtpHeader, RtpPacket, type RTCPeerConnection, type RTCRtpSender } from 'werift';
import { RtpFastPath } from '../../media-worker/src/transport/webrtc/rtp-fast-path.ts';
import { installSrtpKeyObjects } from '../../media-worker/src/werift-patches/srtp-key-objects.ts';
import { loopbackPeer, OPUS_PAYLOAD_TYPE } from '../../test/support/loopback-peer.ts';
import { SAMPLES_PER_PACKET } from './opus-packets.ts';
import type { Signaling } from './signaling.ts';
import { createHistogram, extendSeq, recordLateness, tsDelta, updateJitter, type Histogram } from './stats.ts';

// The load generator's own SRTP at the worker's cost, so more peers fit beside the server measured.
installSrtpKeyObjects();

const TICKS_PER_MS = 48;
const CONNECT_TIMEOUT_MS = 15_000;

export interface PeerWindowStats {
  /** Packets sent whose tick was due inside the window. */
  sent: number;
  /** Packets received inside the window. */
  received: number;
  /** Extended highest − first sequence number + 1 of the packets received in the window. */
  expected: number;
  /** max(0, expected − received): RTP sequence gaps. */
  lost: number;
  /** Packets that arrived behind a higher sequence number (reordered or duplicated). */
  outOfOrder: number;
  /**
   * 20 ms frames missing from the server's own timeline without a sequence gap: the RTP timestamp
   * advanced by more packets than the sequence number did (a server that skips ticks or drops
   * queued audio when it falls behind sends no gap in sequence numbers).
   */
  mediaGapFrames: number;
  /** Per-packet lateness, min-normalised over the window (ms). */
  lateness: Histogram;
  /** RFC 3550 interarrival jitter at the end of the window, and its maximum during it (ms). */
  jitterMs: number;
  jitterMaxMs: number;
  /** Set when the connection dropped before hangup ('failed', 'closed', 'dtls-closed'). */
  dropped: string | null;
}

/**
 * One werift client peer for the load generator: loopback-only ICE like test/support/rtc-client.ts
 * (Opus PT 111, max-bundle, the `events` data channel our worker expects), signalled through a
 * pluggable Signaling. It sends what the shared SenderClock hands it (pre-encoded Opus, no
 * per-frame encoding) and measures the echo it receives, over the window only:
 *
 * lateness of a packet = arrival − (firstArrival + (ts − firstTs) / 48 ms), min-normalised over the
 * window: how late the server sent relative to its own RTP schedule (plus loopback and our own
 * event-loop delay). Per packet it stores one float into a preallocated array; the histogram is
 * built at the end of the window.
 */
export class LoadPeer {
  readonly pc: RTCPeerConnection;
  readonly sender: RTCRtpSender;
  readonly signaling: Signaling;
  sessionUrl: string | undefined;
  /** ms from the offer being ready to the answer (the signaling round trip). */
  answerMs = 0;
  /** ms from the start of connect() to 'connected'. */
  connectMs = 0;
  dropped: string | null = null;
  /** Every RTP packet received, window or not. */
  totalReceived = 0;

  /** The worker's own RTP path, once connected: a peer then costs the load generator ~1/3 of werift's path. */
  private fast: RtpFastPath | null = null;
  private readonly packet = new RtpPacket(new RtpHeader({ payloadType: OPUS_PAYLOAD_TYPE }), Buffer.alloc(0));
  private seq = Math.floor(Math.random() * 0x10000);
  private readonly ts0 = Math.floor(Math.random() * 0x1_0000_0000);
  private firstTick = -1;

  private winStart = Infinity;
  private winEnd = Infinity;
  private sent = 0;
  private received = 0;
  private outOfOrder = 0;
  private firstExt = 0;
  private lastExt = 0;
  private highestExt = 0;
  private highestTs = 0;
  private mediaGapFrames = 0;
  private firstArrival = 0;
  private firstTs = 0;
  private prevArrival = 0;
  private prevTs = 0;
  private jitter = 0;
  private jitterMax = 0;
  private offsets = new Float64Array(0);
  private stored = 0;

  private constructor(pc: RTCPeerConnection, sender: RTCRtpSender, signaling: Signaling) {
    this.pc = pc;
    this.sender = sender;
    this.signaling = signaling;
  }

  /** Offers, signals and resolves once ICE+DTLS are up; closes everything it made on failure. */
  static async connect(signaling: Signaling, opts: { dataChannel?: boolean; timeoutMs?: number } = {}): Promise<LoadPeer> {
    const t0 = performance.now();
    const pc = loopbackPeer();
    const transceiver = pc.addTransceiver('audio', { direction: 'sendrecv' });
    if (opts.dataChannel ?? true) pc.createDataChannel('events');
    const peer = new LoadPeer(pc, transceiver.sender, signaling);
    transceiver.onTrack.subscribe((track) => track.onReceiveRtp.subscribe((rtp) => peer.onRtp(rtp.header.sequenceNumber, rtp.header.timestamp)));
    const timeoutMs = opts.timeoutMs ?? CONNECT_TIMEOUT_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const connected = new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`not connected within ${timeoutMs} ms (state ${pc.connectionState})`)), timeoutMs);
        pc.connectionStateChange.subscribe((s) => {
          if (s === 'connected') resolve();
          else if (s === 'failed') reject(new Error('ICE/DTLS failed'));
        });
      });
      connected.catch(() => {}); // rejection handled by the await below; avoids an unhandled rejection while signalling
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise<void>((r) => {
        if (pc.iceGatheringState === 'complete') r();
        else pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && r());
      });
      const t1 = performance.now();
      const { answerSdp, sessionUrl } = await signaling.signal(pc.localDescription!.sdp);
      peer.answerMs = performance.now() - t1;
      peer.sessionUrl = sessionUrl;
      await pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
      await connected;
      peer.connectMs = performance.now() - t0;
    } catch (err) {
      await peer.hangup().catch(() => {});
      throw err;
    } finally {
      clearTimeout(timer);
    }
    // The echo's first packet reaches onTrack through werift (it learns the SSRC); the rest come this way.
    peer.fast = RtpFastPath.attach(transceiver, OPUS_PAYLOAD_TYPE, (seq, ts) => peer.onRtp(seq, ts));
    pc.connectionStateChange.subscribe((s) => {
      if ((s === 'failed' || s === 'closed') && !peer.dropped) peer.dropped = s;
    });
    transceiver.dtlsTransport.onStateChange.subscribe((s) => {
      if (s === 'closed' && !peer.dropped) peer.dropped = 'dtls-closed';
    });
    return peer;
  }

  /** The measurement window in performance.now() ms; `[start, end)`. Preallocates the per-packet store. */
  setWindow(start: number, end: number): void {
    this.winStart = start;
    this.winEnd = end;
    // Room for 1.5x the nominal 50 packets/s plus slack (bursts after a stall); excess is not stored.
    this.offsets = new Float64Array(Math.ceil(((end - start) / 20) * 1.5) + 256);
  }

  /** Sends one pre-encoded 20 ms packet for clock tick `tick` (due at `due`, performance.now() ms). */
  send(payload: Buffer, tick: number, due: number): void {
    if (this.dropped) return;
    const first = this.firstTick < 0;
    if (first) this.firstTick = tick;
    const seq = this.seq;
    this.seq = (this.seq + 1) & 0xffff;
    // From the tick, not a counter: ticks the clock skipped leave a timestamp gap, as live audio would.
    const timestamp = (this.ts0 + (tick - this.firstTick) * SAMPLES_PER_PACKET) >>> 0;
    if (!this.fast?.send(payload, seq, timestamp, first)) {
      const h = this.packet.header;
      h.sequenceNumber = seq;
      h.timestamp = timestamp;
      h.marker = first;
      this.packet.payload = payload;
      // werift clones the packet before rewriting it, so the one header object is reused.
      this.sender.sendRtp(this.packet).catch(() => {});
    }
    if (due >= this.winStart && due < this.winEnd) this.sent++;
  }

  private onRtp(seq16: number, ts: number): void {
    this.totalReceived++;
    const now = performance.now();
    if (now < this.winStart || now >= this.winEnd) return;
    if (this.received === 0) {
      this.firstExt = this.lastExt = this.highestExt = seq16;
      this.firstArrival = this.prevArrival = now;
      this.firstTs = this.prevTs = this.highestTs = ts;
      this.received = 1;
      this.store(0);
      return;
    }
    this.received++;
    const ext = extendSeq(this.lastExt, seq16);
    this.lastExt = ext;
    if (ext > this.highestExt) {
      const frames = Math.round(tsDelta(this.highestTs, ts) / SAMPLES_PER_PACKET);
      if (frames > ext - this.highestExt) this.mediaGapFrames += frames - (ext - this.highestExt);
      this.highestExt = ext;
      this.highestTs = ts;
    } else this.outOfOrder++;
    const d = now - this.prevArrival - tsDelta(this.prevTs, ts) / TICKS_PER_MS;
    this.jitter = updateJitter(this.jitter, d);
    if (this.jitter > this.jitterMax) this.jitterMax = this.jitter;
    this.prevArrival = now;
    this.prevTs = ts;
    this.store(now - this.firstArrival - tsDelta(this.firstTs, ts) / TICKS_PER_MS);
  }

  private store(offset: number): void {
    if (this.stored < this.offsets.length) this.offsets[this.stored++] = offset;
  }

  windowStats(): PeerWindowStats {
    const expected = this.received === 0 ? 0 : this.highestExt - this.firstExt + 1;
    return {
      sent: this.sent,
      received: this.received,
      expected,
      lost: Math.max(0, expected - this.received),
      outOfOrder: this.outOfOrder,
      mediaGapFrames: this.mediaGapFrames,
      lateness: recordLateness(this.offsets, this.stored, createHistogram()),
      jitterMs: this.jitter,
      jitterMaxMs: this.jitterMax,
      dropped: this.dropped,
    };
  }

  /** Ends the session on the server (DELETE) and closes the peer connection; never throws. */
  async hangup(): Promise<string | null> {
    let error: string | null = null;
    if (this.sessionUrl && this.signaling.hangup) {
      try {
        await this.signaling.hangup(this.sessionUrl);
      } catch (err) {
        error = (err as Error).message;
      }
      this.sessionUrl = undefined;
    }
    this.dropped ??= 'hung-up';
    this.fast?.detach();
    await this.pc.close().catch(() => {});
    return error;
  }
}
