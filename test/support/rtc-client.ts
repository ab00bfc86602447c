import type { IceServer } from '@switchboard/protocol';
import { RtpHeader, RtpPacket, type RTCDataChannel, type RTCPeerConnection, type RTCRtpTransceiver } from 'werift';
import type { AudioFrame } from '../../media-worker/src/audio/frame.ts';
import { OpusDecoderStream, OpusEncoderStream } from '../../media-worker/src/audio/opus.ts';
import { concatFrames } from '../../media-worker/src/audio/pcm.ts';
import { Reframer } from '../../media-worker/src/audio/reframer.ts';
import { resampleOnce } from '../../media-worker/src/audio/resampler.ts';
import { withStunFromTurn } from '../../media-worker/src/transport/webrtc/stun-from-turn.ts';
import { onlyFromInterface } from '../../media-worker/src/transport/webrtc/host-candidates.ts';
import { loopbackPeer, OPUS_PAYLOAD_TYPE } from './loopback-peer.ts';

export interface ConnectOptions {
  /** ICE servers for the client (e.g. the answer of `GET /v1/ice-servers`); none by default. */
  iceServers?: IceServer[];
  /** 'relay': TURN relay candidates only. */
  iceTransportPolicy?: 'all' | 'relay';
  /** The loopback address the client's peer binds and gathers on (default 127.0.0.1). */
  localAddress?: string;
}

export interface ResumeOptions {
  /** Another local address for the new peer connection (e.g. 127.0.0.2): the client's network changed. */
  localAddress?: string;
  /** Give up after this long without a connected peer connection (ms). Default 10 s. */
  timeoutMs?: number;
}

export interface ReceivedEvent {
  type: string;
  /** When the client received it (performance.now()). */
  receivedAt: number;
  [k: string]: unknown;
}

/**
 * A WebRTC client on werift, talking WHIP to the edge like a browser: Opus 48 kHz, the `events`
 * data channel, real-time paced sending of a recording, decoding of everything it receives.
 */
export class RtcTestClient {
  readonly events: ReceivedEvent[] = [];
  /**
   * Decoded audio received, 48 kHz mono, with its arrival time (performance.now()) and the peer
   * connection it came on (0 for the first, then one more per resume).
   */
  readonly received: { at: number; frame: AudioFrame; peer: number }[] = [];
  /** Peer connections made so far (a resume adds one). */
  private peers = 1;
  sessionUrl = '';
  answerMs = 0;
  /** The last resume's time from POST to the new peer connection connected (ms). */
  resumeMs = 0;
  /** The last resume's time to make its offer (gathering included) before the POST (ms). */
  resumeOfferMs = 0;
  private readonly encoder = new OpusEncoderStream({ sampleRate: 48000, channels: 1, fec: true });
  private readonly decoder = new OpusDecoderStream(1);
  private seq = 1;
  private ts = 0;

  /** The peer connection the call is on now (a resume replaces it). */
  pc: RTCPeerConnection;
  channel: RTCDataChannel;
  private transceiver: RTCRtpTransceiver;
  private readonly opts: ConnectOptions;

  private constructor(peer: Peer, opts: ConnectOptions) {
    this.pc = peer.pc;
    this.transceiver = peer.transceiver;
    this.channel = peer.channel;
    this.opts = opts;
  }

  /** A peer connection offering Opus send-receive and the `events` channel; what it receives lands in this client's lists. */
  private static peer(opts: ConnectOptions, client: () => RtcTestClient, index: number): Peer {
    const address = opts.localAddress ?? '127.0.0.1';
    const pc = loopbackPeer({
      iceServers: withLocalStun(opts.iceServers ?? []).map((s) => ({ urls: s.urls, ...(s.username ? { username: s.username } : {}), ...(s.credential ? { credential: s.credential } : {}) })),
      iceTransportPolicy: opts.iceTransportPolicy ?? 'all',
      ...(address === '127.0.0.1'
        ? {}
        : { iceInterfaceAddresses: { udp4: address }, iceAdditionalHostAddresses: [address], iceFilterCandidatePair: onlyFromInterface(address) }),
    });
    const transceiver = pc.addTransceiver('audio', { direction: 'sendrecv' });
    const channel = pc.createDataChannel('events');
    channel.onMessage.subscribe((m) => client().events.push({ ...JSON.parse(m.toString()), receivedAt: performance.now() }));
    transceiver.onTrack.subscribe((track) =>
      track.onReceiveRtp.subscribe((rtp) => {
        const c = client();
        c.received.push({ at: performance.now(), frame: c.decoder.decode(rtp.payload), peer: index });
      }),
    );
    return { pc, transceiver, channel };
  }

  /**
   * Offers to the edge (WHIP) and resolves once connected. `iceServers` (as `GET /v1/ice-servers`
   * returns them) default to none: werift would otherwise add a public STUN server and wait for it.
   * `iceTransportPolicy: 'relay'` gathers only TURN relay candidates, as a browser told so does.
   */
  static async connect(edgeUrl: string, opts: ConnectOptions = {}): Promise<RtcTestClient> {
    let client: RtcTestClient | undefined;
    const peer = RtcTestClient.peer(opts, () => client!, 0);
    client = new RtcTestClient(peer, opts);
    const pc = peer.pc;
    await offered(pc);
    const t0 = performance.now();
    const res = await fetch(`${edgeUrl}/v1/sessions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp' },
      body: pc.localDescription!.sdp,
    });
    client.answerMs = performance.now() - t0;
    if (res.status !== 201) throw new Error(`WHIP POST answered ${res.status}: ${await res.text()}`);
    client.sessionUrl = `${edgeUrl}${res.headers.get('Location')}`;
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    await connectedWithin(pc, 10_000);
    return client;
  }

  /**
   * Sends a recording (any rate) as 20 ms Opus packets in real time. Resolves, once the last
   * packet is sent, with the time (performance.now()) the first one was: the recording's time 0 as
   * it left, after the resampling and framing done here first.
   */
  async play(recording: AudioFrame, signal?: AbortSignal): Promise<number> {
    const at48 = recording.sampleRate === 48000 ? recording : await resampleOnce(recording, 48000);
    const reframer = new Reframer(48000, 1, 20);
    const frames = [...reframer.push(at48)];
    const tail = reframer.flush(true);
    if (tail) frames.push(tail);
    const start = performance.now();
    for (let i = 0; i < frames.length; i++) {
      if (signal?.aborted) return start;
      this.sendPacket(frames[i]!);
      const wait = start + (i + 1) * 20 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    return start;
  }

  /** Sends `ms` of digital silence, paced. */
  async silence(ms: number): Promise<void> {
    await this.play({ samples: new Int16Array(Math.round((48000 * ms) / 1000)), sampleRate: 48000, channels: 1 });
  }

  private sendPacket(frame: AudioFrame): void {
    const payload = this.encoder.encode(frame);
    const header = new RtpHeader({ payloadType: OPUS_PAYLOAD_TYPE, sequenceNumber: this.seq++ & 0xffff, timestamp: this.ts >>> 0, marker: this.seq === 2 });
    this.ts += 960;
    // A connection closed under a resume (or by the test) drops the packet.
    this.transceiver.sender.sendRtp(new RtpPacket(header, Buffer.from(payload))).catch(() => {});
  }

  async waitForEvents(type: string, count: number, timeoutMs = 15_000): Promise<ReceivedEvent[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = this.events.filter((e) => e.type === type);
      if (got.length >= count) return got;
      if (Date.now() > deadline) throw new Error(`saw ${got.length} ${type} events of ${count}; events: ${this.events.map((e) => e.type).join(',')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Everything received between two times, as one 48 kHz frame. */
  receivedBetween(from = 0, to = Infinity): AudioFrame {
    const frames = this.received.filter((r) => r.at >= from && r.at <= to).map((r) => r.frame);
    return frames.length ? concatFrames(frames) : { samples: new Int16Array(0), sampleRate: 48000, channels: 1 };
  }

  /**
   * Resumes the call on a new peer connection, as a client does after its network changed or
   * its media stopped: offers (optionally from another local address), posts the offer to
   * `/v1/sessions/{id}/resume`, and once the new connection is up sends on it and closes the
   * old one. Audio and events from both land in the same lists. Resolves with the time from the
   * POST to connected (ms).
   */
  async resume(opts: ResumeOptions = {}): Promise<number> {
    const peerOpts = { ...this.opts, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) };
    const peer = RtcTestClient.peer(peerOpts, () => this, this.peers++);
    const { pc } = peer;
    try {
      const offerAt = performance.now();
      await offered(pc);
      const t0 = performance.now();
      this.resumeOfferMs = t0 - offerAt;
      const res = await fetch(`${this.sessionUrl}/resume`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp' },
        body: pc.localDescription!.sdp,
      });
      if (res.status !== 201) throw new Error(`resume POST answered ${res.status}: ${await res.text()}`);
      await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
      await connectedWithin(pc, opts.timeoutMs ?? 10_000);
      this.resumeMs = performance.now() - t0;
    } catch (err) {
      await pc.close();
      throw err;
    }
    const old = this.pc;
    this.pc = peer.pc;
    this.transceiver = peer.transceiver;
    this.channel = peer.channel;
    void old.close().catch(() => {});
    return this.resumeMs;
  }

  /** The local address of the connection's selected candidate pair (undefined until connected). */
  localAddress(): string | undefined {
    return this.pc.iceTransports[0]?.connection.nominated?.localCandidate.host;
  }

  async hangup(): Promise<number> {
    const res = this.sessionUrl ? await fetch(this.sessionUrl, { method: 'DELETE' }) : null;
    await this.pc.close();
    return res?.status ?? 0;
  }
}

/**
 * werift asks its hard-wired public STUN server (stun.l.google.com) when no `stun:` URL is given;
 * tests must not reach it. A STUN URL on loopback (a TURN server's, or a closed port that refuses
 * at once) keeps every packet on this machine.
 */
function withLocalStun(servers: IceServer[]): IceServer[] {
  const withTurn = withStunFromTurn(servers);
  if (withTurn.some((s) => s.urls.some((u) => /^stuns?:/i.test(u)))) return withTurn;
  return [...withTurn, { urls: ['stun:127.0.0.1:9'] }];
}

interface Peer {
  pc: RTCPeerConnection;
  transceiver: RTCRtpTransceiver;
  channel: RTCDataChannel;
}

/** Sets the local offer and waits for gathering (WHIP sends one complete offer). */
async function offered(pc: RTCPeerConnection): Promise<void> {
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise<void>((r) => {
    if (pc.iceGatheringState === 'complete') r();
    else pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && r());
  });
}

function connectedWithin(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (pc.connectionState === 'connected') return resolve();
    const t = setTimeout(() => reject(new Error(`WebRTC did not connect within ${timeoutMs} ms`)), timeoutMs);
    pc.connectionStateChange.subscribe((s) => {
      if (s === 'connected') {
        clearTimeout(t);
        resolve();
      }
    });
  });
}
