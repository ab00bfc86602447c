import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classes, Message, methods, RtpHeader, RtpPacket, type RTCPeerConnection } from 'werift';
import { connected, loopbackPeer, OPUS_PAYLOAD_TYPE } from '../../../test/support/loopback-peer.ts';
import { until } from '../../../test/support/until.ts';
import { audioFrame } from '../audio/frame.ts';
import { OpusEncoderStream } from '../audio/opus.ts';
import type { RtpFastPath } from '../transport/webrtc/rtp-fast-path.ts';
import { WebRtcTransport } from '../transport/webrtc/webrtc-transport.ts';
import { UdpMux } from './udp-mux.ts';

/** The port of every host candidate in an SDP. */
function hostPorts(sdp: string): number[] {
  return [...sdp.matchAll(/^a=candidate:\S+ \d+ udp \d+ \S+ (\d+) typ host/gim)].map((m) => Number(m[1]));
}

interface Internals {
  pc: RTCPeerConnection;
  fastPath: RtpFastPath | null;
}

describe('WebRTC calls on one shared UDP socket (real werift peers)', () => {
  let mux: UdpMux;
  beforeAll(async () => {
    mux = await UdpMux.bind(0, '127.0.0.1');
  });
  afterAll(() => mux.close());

  /** A connected call on the mux, with a client that records the reply packets it receives. */
  async function call() {
    const client = loopbackPeer();
    const tx = client.addTransceiver('audio', { direction: 'sendrecv' });
    const replies: number[] = [];
    tx.onTrack.subscribe((track) => track.onReceiveRtp.subscribe((rtp) => replies.push(rtp.header.sequenceNumber)));
    client.createDataChannel('events');
    await client.setLocalDescription(await client.createOffer());
    const { transport, answer } = await WebRtcTransport.answer(client.localDescription!.sdp, {
      iceServers: [],
      icePolicy: 'all',
      portRange: undefined,
      udpMux: mux,
      publicIp: '',
      interfaceAddress: '127.0.0.1',
      allowPeerAddresses: ['loopback'],
    });
    const heard: number[] = [];
    transport.onAudio((f) => heard.push(f.samples.length));
    await client.setRemoteDescription({ type: 'answer', sdp: answer });
    await connected(client);
    return { client, tx, transport, answer, replies, heard };
  }

  it('answers every call with the one port, connects each, and carries audio both ways on the fast path', async () => {
    const calls = await Promise.all([call(), call(), call()]);
    expect(mux.sessions).toBe(3);
    // Each answer's fragment is the socket's own 8-digit one, unique among the calls.
    const ufrags = calls.map((c) => /a=ice-ufrag:(\S+)/.exec(c.answer)?.[1]);
    for (const u of ufrags) expect(u).toMatch(/^[0-9a-f]{8}$/);
    expect(new Set(ufrags).size).toBe(3);
    const enc = new OpusEncoderStream({ sampleRate: 48000, channels: 1 });
    const packet = Buffer.from(enc.encode(audioFrame(new Int16Array(960).fill(1000), 48000, 1)));
    for (const c of calls) {
      expect([...new Set(hostPorts(c.answer))]).toEqual([mux.port]); // listed under each bundled m-line
      for (let k = 0; k < 10; k++) {
        await c.tx.sender.sendRtp(new RtpPacket(new RtpHeader({ payloadType: OPUS_PAYLOAD_TYPE, sequenceNumber: 100 + k, timestamp: k * 960 }), packet));
      }
      for (let k = 0; k < 10; k++) c.transport.output.push(audioFrame(new Int16Array(960).fill(2000), 48000, 1));
      void c.transport.output.finish();
    }
    await until(() => calls.every((c) => c.heard.length >= 8 && c.replies.length >= 8), 5000);
    for (const c of calls) {
      const fast = (c.transport as unknown as Internals).fastPath;
      expect(fast).not.toBeNull();
      expect(fast!.received).toBeGreaterThan(0);
      expect(fast!.sent).toBeGreaterThan(0);
    }
    for (const c of calls) {
      c.transport.close('test_done');
      await c.client.close();
    }
    await until(() => mux.sessions === 0, 2000);
  }, 20_000);

  it('answers checks for an ICE restart\'s new credentials on the same port', async () => {
    const c = await call();
    const connection = (c.transport as unknown as Internals).pc.iceTransports[0]!.connection;
    await connection.restart();
    const probe = createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', r));
    const responses: Buffer[] = [];
    probe.on('message', (m) => responses.push(m));
    const check = new Message(methods.BINDING, classes.REQUEST);
    check.setAttribute('USERNAME', `${connection.localUsername}:probe`).setAttribute('PRIORITY', 1853824767).setAttribute('ICE-CONTROLLING', 1n);
    check.addMessageIntegrity(Buffer.from(connection.localPassword, 'utf8')).addFingerprint();
    probe.send(check.bytes, mux.port, '127.0.0.1');
    await until(() => responses.length > 0, 3000);
    const reply = responses[0]!;
    expect(reply.readUInt16BE(0)).toBe(0x0101); // binding success
    expect(reply.subarray(8, 20)).toEqual(Buffer.from(check.transactionId));
    probe.close();
    c.transport.close('test_done');
    await c.client.close();
  }, 20_000);
});
