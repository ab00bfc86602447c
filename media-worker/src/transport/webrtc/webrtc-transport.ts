import { parseChannelMessage, type ChannelMessage, type IceServer } from '@switchboard/protocol';
import type { RTCDataChannel, RTCPeerConnection, RTCRtpTransceiver } from 'werift';
import { FrameClock } from '../../audio/frame-clock.ts';
import type { AudioFrame } from '../../audio/frame.ts';
import { isOpusRate, OPUS_SAMPLE_RATE, OpusDecoderStream, type OpusEncoderOptions } from '../../audio/opus.ts';
import { PlayoutEngine, type PlayoutStats } from '../../audio/playout/engine.ts';
import type { MediaTransport } from '../types.ts';
import { ClientEvents } from '../client-events.ts';
import { PendingEvents } from '../pending-events.ts';
import { installWeriftPatches } from '../../werift-patches/index.ts';
import type { UdpMux } from '../../werift-patches/udp-mux.ts';
import { keepHostCandidatesOn } from './host-candidates.ts';
import { advertisePublicIp } from './nat1to1.ts';
import { findOfferedOpus } from './opus-offer.ts';
import { gathered, newPeerConnection, toWeriftIceServers } from './peer-connection.ts';
import { RemoteCandidateGate, type PeerAddressClass } from './remote-candidates.ts';
import { RtcpReports } from './rtcp-reports.ts';
import { RtpFastPath } from './rtp-fast-path.ts';
import { RtpSink } from './rtp-sink.ts';

export interface WebRtcOptions {
  iceServers: IceServer[];
  icePolicy: 'all' | 'relay';
  /** [min, max] UDP ports, or undefined for any (a socket per call; unused with `udpMux`). */
  portRange: [number, number] | undefined;
  /** The worker's one shared UDP socket (RTC_UDP_PORT, werift-patches/udp-mux.ts): the call's host candidate is on it. */
  udpMux?: UdpMux;
  /** Advertised public address (1:1 NAT), or '' for none. */
  publicIp: string;
  /** Gather and bind on this local address only ('' = every interface); 127.0.0.1 for local stacks. */
  interfaceAddress: string;
  /** Reply encoder settings (mono; the rate follows the reply's, see rtp-sink.ts). */
  opus?: Pick<OpusEncoderOptions, 'application' | 'complexity' | 'bitrate'>;
  /**
   * The rate the pipeline wants caller audio at (the handler's inputSampleRate). Incoming Opus is
   * decoded straight at it when libopus can (8/12/16/24/48 kHz), so no resampler runs per frame;
   * at any other rate it is decoded at 48 kHz and the pipeline resamples. Default 48000.
   */
  inputSampleRate?: number;
  /** Carry the call's RTP on our own path once connected (rtp-fast-path.ts); false: werift's only. Default true. */
  fastPath?: boolean;
  /**
   * Non-public classes of remote candidate address the call may send to (RTC_ALLOW_PEER_ADDRESSES,
   * remote-candidates.ts). Default none: public addresses only.
   */
  allowPeerAddresses?: readonly PeerAddressClass[];
  /** Where the call reports remote candidates it ignored (once per reason). Default console.warn. */
  log?: (msg: string) => void;
}

// Idempotent; here too so transports made without main.ts (tests, benchmarks) run patched werift.
installWeriftPatches();

/**
 * The reply encoder's bit rate unless told (bits/s): what browsers send for mono Opus (libwebrtc's
 * default), inside the 28-40 kbit/s the Opus project recommends for fullband speech.
 */
const REPLY_BITRATE = 32_000;

/**
 * A peer that has not connected (ICE and DTLS) this long after the answer never will: the call
 * ends with 'connect_timeout'. werift itself never gives up: when every connectivity check fails
 * its ICE agent stays 'checking' (it waits for a check-list result that never comes).
 */
export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * A browser call over WebRTC (werift): answers the offer with Opus send-receive and takes the
 * client's `events` data channel. Incoming Opus is decoded to AudioFrames at `inputSampleRate`;
 * reply audio is paced by a PlayoutEngine on the shared 20 ms clock, Opus-encoded and sent as RTP
 * with continuous timestamps (rtp-sink.ts).
 */
export class WebRtcTransport implements MediaTransport {
  readonly kind = 'webrtc' as const;
  private readonly audioListeners: ((f: AudioFrame) => void)[] = [];
  private readonly eventListeners: ((e: ChannelMessage) => void)[] = [];
  private readonly closeListeners: ((reason: string) => void)[] = [];
  private readonly connectedListeners: (() => void)[] = [];
  private channel: RTCDataChannel | null = null;
  private readonly clientEvents: ClientEvents;
  /** Events sent before the `events` channel opened (a greeting's transcript), delivered when it does. */
  private readonly pendingEvents = new PendingEvents();
  private readonly decoder: OpusDecoderStream;
  /** Reply audio: paced on the shared clock, segment by segment (audio/playout/engine.ts). */
  readonly output: PlayoutEngine;
  /**
   * Every call of the worker ticks on one clock: one timer wake-up and one burst of sends per
   * 20 ms for all of them (frame-clock.ts).
   */
  private readonly clock = FrameClock.shared(20);
  private lastInSeq = -1;
  private closed = false;
  private closeReason = '';
  /** Settles once werift has closed the peer connection (SCTP ABORT sent, UDP sockets closed). */
  private closing: Promise<void> = Promise.resolve();
  private watchingSctp = false;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  /** Every remote candidate, offered or trickled, passes it before werift sees it (remote-candidates.ts). */
  private readonly remoteCandidates: RemoteCandidateGate;

  private readonly pc: RTCPeerConnection;
  private readonly payloadType: number;
  /** Set once the offer is applied; sending before that is impossible (not connected). */
  private transceiver: RTCRtpTransceiver | null = null;
  private readonly useFastPath: boolean;
  /** Set once connected where the selected pair allows it; werift's path carries what it does not. */
  private fastPath: RtpFastPath | null = null;
  /** The call's RTCP reports (rtcp-reports.ts); null: werift's own report loops run. */
  private rtcpReports: RtcpReports | null = null;

  /** Subscribes before the offer is applied: werift fires `onTrack` inside setRemoteDescription. */
  private constructor(pc: RTCPeerConnection, payloadType: number, o: WebRtcOptions) {
    const { opus, inputSampleRate = OPUS_SAMPLE_RATE } = o;
    this.pc = pc;
    this.decoder = new OpusDecoderStream(1, isOpusRate(inputSampleRate) ? inputSampleRate : OPUS_SAMPLE_RATE);
    this.useFastPath = o.fastPath ?? true;
    const log = o.log ?? ((m: string) => console.warn(m));
    this.remoteCandidates = new RemoteCandidateGate({
      allowed: o.allowPeerAddresses ?? [],
      onFirstDrop: (reason, candidate) =>
        log(reason === 'limit' ? `remote candidates beyond ${this.remoteCandidates.admitted} ignored, from ${JSON.stringify(candidate)}` : `remote candidate ignored (${reason}): ${JSON.stringify(candidate)}`),
    });
    // Every rate gets the same bit budget: libopus' own default shrinks with the input rate (19
    // kbit/s at 16 kHz against 51 at 48), which would cost quality, not just bandwidth. At the
    // same budget, 16 kHz speech coded at 16 kHz keeps more of its waveform than coded from a
    // 48 kHz resampling (20.8 vs 17.6 dB SNR on the speech fixture): no bits go to empty bands.
    const encoderOptions: OpusEncoderOptions = { channels: 1, fec: true, bitrate: REPLY_BITRATE, ...opus };
    this.payloadType = payloadType;
    const sink = new RtpSink(
      { payloadType, transceiver: () => this.transceiver, fastPath: () => this.fastPath, closed: () => this.closed },
      encoderOptions,
    );
    this.output = new PlayoutEngine({ sink, clock: this.clock, maxQueueMs: 10_000 });
    // The events channel's limits and its ping (client-events.ts).
    this.clientEvents = new ClientEvents({
      send: (e) => this.sendEvent(e),
      deliver: (e) => {
        for (const l of this.eventListeners) l(e);
      },
      onAbuse: () => void this.close('abuse'),
    });
    pc.onDataChannel.subscribe((ch) => {
      // The peer closing its RTCPeerConnection aborts the SCTP association (browsers and werift
      // send an ABORT): the call is over. Without this the worker would only notice when ICE
      // consent expires, 30 s later (RFC 7675), holding the slot and the sockets until then.
      if (!this.watchingSctp && pc.sctpTransport) {
        this.watchingSctp = true;
        pc.sctpTransport.sctp.stateChanged.closed.subscribe(() => this.close('peer_closed'));
      }
      if (ch.label !== 'events') return;
      this.channel = ch;
      if (ch.readyState === 'open') this.pendingEvents.flush((e) => this.sendEvent(e));
      else ch.stateChanged.subscribe((s) => s === 'open' && this.pendingEvents.flush((e) => this.sendEvent(e)));
      ch.onMessage.subscribe((data) => {
        if (this.closed || !this.clientEvents.admit(typeof data === 'string' ? Buffer.byteLength(data) : data.length)) return;
        const parsed = parseChannelMessage(typeof data === 'string' ? data : data.toString());
        if (!parsed.ok) return this.sendEvent({ type: 'error', message: parsed.error });
        this.clientEvents.receive(parsed.value);
      });
    });
    pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => this.receive(rtp.header.sequenceNumber, rtp.payload));
    });
    pc.connectionStateChange.subscribe((state) => {
      if (state === 'connected') {
        clearTimeout(this.connectTimer);
        if (this.useFastPath && this.transceiver && !this.fastPath) {
          this.fastPath = RtpFastPath.attach(this.transceiver, this.payloadType, (seq, _ts, payload) => this.receive(seq, payload));
        }
        this.output.start();
        for (const l of this.connectedListeners) l();
      } else if (state === 'failed') this.close('ice_failed');
      else if (state === 'closed') this.close('peer_closed');
    });
  }

  /** Answers a browser's offer; resolves once local candidates are gathered (or the limit passes). */
  static async answer(offer: string, o: WebRtcOptions): Promise<{ transport: WebRtcTransport; answer: string }> {
    const opus = findOfferedOpus(offer);
    if (!opus) throw new Error('the offer has no Opus audio');
    const pc = newPeerConnection(opus, o);
    const transport = new WebRtcTransport(pc, opus.payloadType, o);
    try {
      // Candidates werift must not pair (names it would resolve, addresses it must not send to) go first.
      await pc.setRemoteDescription({ type: 'offer', sdp: transport.remoteCandidates.pruneSdp(offer) });
      const transceiver = pc.getTransceivers().find((t) => t.kind === 'audio');
      if (!transceiver) throw new Error('the offer has no audio m-line');
      // werift answers a sendrecv offer as recvonly unless told to send.
      transceiver.setDirection('sendrecv');
      transport.transceiver = transceiver;
      transport.rtcpReports = RtcpReports.start(transceiver);
      // A DTLS alert from the peer (close_notify: a browser closing its peer connection, also
      // without a data channel) closes the DTLS transport; werift's connectionState stays
      // 'connected' until ICE consent expires, so it is watched here.
      transceiver.dtlsTransport.onStateChange.subscribe((state) => {
        if (state === 'closed') transport.close('peer_closed');
      });
      await pc.setLocalDescription(await pc.createAnswer());
      await gathered(pc);
      const sdp = pc.localDescription?.sdp;
      if (!sdp) throw new Error('werift produced no answer');
      if (!transport.closed && pc.connectionState !== 'connected') {
        transport.connectTimer = setTimeout(() => transport.close('connect_timeout'), CONNECT_TIMEOUT_MS);
      }
      return { transport, answer: advertisePublicIp(keepHostCandidatesOn(sdp, o.interfaceAddress), o.publicIp) };
    } catch (err) {
      transport.close('answer_failed');
      throw err;
    }
  }

  /**
   * Fresh server-side TURN credentials: werift applies them to later gathering (ICE restart);
   * allocations already made keep refreshing with the ones they were made with.
   */
  updateIceServers(servers: IceServer[]): void {
    if (!this.closed) this.pc.setConfiguration({ iceServers: toWeriftIceServers(servers) });
  }

  /** A trickled candidate from the client (`candidate:...`), for the media section `mid`; ignored unless the gate admits it. */
  async addRemoteCandidate(candidate: string, mid: string | null): Promise<void> {
    if (!this.remoteCandidates.admit(candidate)) return;
    await this.pc.addIceCandidate({ candidate, sdpMid: mid ?? undefined });
  }

  onConnected(cb: () => void): void {
    this.connectedListeners.push(cb);
  }

  onAudio(cb: (frame: AudioFrame) => void): void {
    this.audioListeners.push(cb);
  }

  onEvent(cb: (event: ChannelMessage) => void): void {
    this.eventListeners.push(cb);
  }

  /** Called once when the transport closes; at once if it already has (e.g. ICE failed while answering). */
  onClose(cb: (reason: string) => void): void {
    if (this.closed) cb(this.closeReason);
    else this.closeListeners.push(cb);
  }

  sendEvent(event: ChannelMessage): void {
    const ch = this.channel;
    if (ch && ch.readyState === 'open') ch.send(JSON.stringify(event));
    else if (!this.closed) this.pendingEvents.hold(event);
  }

  /** The reply output's counters (lateTicks and ticksRun feed the `frames late` metric). */
  stats(): PlayoutStats {
    return this.output.stats();
  }

  /** Closes the call; the promise settles once werift has released it (never rejects). */
  close(reason: string): Promise<void> {
    if (this.closed) return this.closing;
    this.closed = true;
    this.closeReason = reason;
    clearTimeout(this.connectTimer);
    this.output.destroy();
    this.fastPath?.detach();
    this.rtcpReports?.stop();
    this.closing = this.pc.close().catch(() => {});
    for (const l of this.closeListeners) l(reason);
    this.audioListeners.length = 0;
    this.eventListeners.length = 0;
    this.closeListeners.length = 0;
    this.connectedListeners.length = 0;
    return this.closing;
  }

  private receive(seq: number, payload: Buffer): void {
    if (this.closed || payload.length === 0) return;
    this.clock.runIfDue(); // a tick due while a batch of arrivals is handled goes first (frame-clock.ts)
    // Drop duplicates and late packets (16-bit wrap-aware).
    if (this.lastInSeq >= 0) {
      const delta = (seq - this.lastInSeq + 0x10000) & 0xffff;
      if (delta === 0 || delta > 0x8000) return;
    }
    this.lastInSeq = seq;
    let frame: AudioFrame;
    try {
      frame = this.decoder.decode(payload);
    } catch {
      return;
    }
    for (const l of this.audioListeners) l(frame);
  }
}
