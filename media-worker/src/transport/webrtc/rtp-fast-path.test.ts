import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RtpHeader, RtpPacket, type RTCPeerConnection, type RTCRtpTransceiver } from 'werift';
// The same loopback client peer the e2e tests and the benchmark's load generator use.
import { connected, loopbackPeer, OPUS_PAYLOAD_TYPE } from '../../../../test/support/loopback-peer.ts';
import { until } from '../../../../test/support/until.ts';
import { ntpTimestamp, RtpFastPath } from './rtp-fast-path.ts';
import { installSrtpKeyObjects } from '../../werift-patches/srtp-key-objects.ts';

installSrtpKeyObjects();

const PT = OPUS_PAYLOAD_TYPE;

const peer = (): RTCPeerConnection => loopbackPeer();

interface Got {
  seq: number;
  ts: number;
  marker: boolean;
  ssrc: number;
  payload: Buffer;
}

function payloadOf(i: number): Buffer {
  return Buffer.from(Array.from({ length: 40 + (i % 7) }, (_, k) => (i * 31 + k) & 0xff));
}

describe('RTP fast path (real werift peers on loopback)', () => {
  let client: RTCPeerConnection;
  let server: RTCPeerConnection;
  let clientTx: RTCRtpTransceiver;
  let serverTx: RTCRtpTransceiver;
  const atServerWerift: Got[] = [];
  const atServerFast: Got[] = [];
  const atClient: Got[] = [];
  let fast: RtpFastPath | null = null;

  beforeAll(async () => {
    client = peer();
    server = peer();
    clientTx = client.addTransceiver('audio', { direction: 'sendrecv' });
    clientTx.onTrack.subscribe((track) =>
      track.onReceiveRtp.subscribe((rtp) =>
        atClient.push({ seq: rtp.header.sequenceNumber, ts: rtp.header.timestamp, marker: rtp.header.marker, ssrc: rtp.header.ssrc, payload: Buffer.from(rtp.payload) }),
      ),
    );
    server.onTrack.subscribe((track) =>
      track.onReceiveRtp.subscribe((rtp) =>
        atServerWerift.push({ seq: rtp.header.sequenceNumber, ts: rtp.header.timestamp, marker: rtp.header.marker, ssrc: rtp.header.ssrc, payload: Buffer.from(rtp.payload) }),
      ),
    );
    await client.setLocalDescription(await client.createOffer());
    await server.setRemoteDescription(client.localDescription!);
    serverTx = server.getTransceivers()[0]!;
    serverTx.setDirection('sendrecv');
    expect(RtpFastPath.attach(serverTx, PT, () => {})).toBeNull(); // not connected yet
    await server.setLocalDescription(await server.createAnswer());
    await client.setRemoteDescription(server.localDescription!);
    await Promise.all([connected(client), connected(server)]);
  }, 20_000);

  afterAll(async () => {
    fast?.detach();
    await Promise.all([client?.close(), server?.close()]);
  });

  it('receives the call\'s RTP off the socket once werift has seen the SSRC, bytes and numbers intact', async () => {
    const send = (i: number) => clientTx.sender.sendRtp(new RtpPacket(new RtpHeader({ payloadType: PT, sequenceNumber: 65530 + i, timestamp: (i * 960) >>> 0, marker: i === 0 }), payloadOf(i)));
    await send(0); // werift's receiver sees the SSRC first and creates its statistics
    await until(() => atServerWerift.length === 1, 3000);
    fast = RtpFastPath.attach(serverTx, PT, (seq, ts, payload) => atServerFast.push({ seq, ts, marker: false, ssrc: 0, payload: Buffer.from(payload) }));
    expect(fast).not.toBeNull();
    expect(fast!.decryptsDirectly).toBe(true); // werift peers negotiate AES-GCM: srtp-gcm-receive.ts decrypts
    for (let i = 1; i < 30; i++) await send(i); // crosses the 16-bit sequence wrap (rollover counter)
    await until(() => atServerFast.length === 29, 3000);
    expect(atServerWerift).toHaveLength(1);
    expect(fast!.received).toBe(29);
    expect(atServerFast.map((g) => g.seq)).toEqual(Array.from({ length: 29 }, (_, k) => (65530 + k + 1) & 0xffff));
    expect(atServerFast.map((g) => g.ts)).toEqual(Array.from({ length: 29 }, (_, k) => (k + 1) * 960));
    atServerFast.forEach((g, k) => expect(g.payload.equals(payloadOf(k + 1))).toBe(true));
    // werift's receive statistics (its receiver reports) still count every packet.
    const stats = (serverTx.receiver as unknown as { remoteStreams: Record<number, { packets_received: number }> }).remoteStreams;
    expect(Object.values(stats)[0]!.packets_received).toBe(30);
  });

  it('sends RTP the peer decrypts as werift\'s own, with the sender\'s SSRC, and werift\'s sender reports count it', async () => {
    expect(fast).not.toBeNull();
    for (let i = 0; i < 25; i++) expect(fast!.send(payloadOf(i), (65520 + i) & 0xffff, (1000 + i * 960) >>> 0, i === 0)).toBe(true);
    await until(() => atClient.length === 25, 3000);
    expect(fast!.sent).toBe(25);
    expect(atClient.map((g) => g.seq)).toEqual(Array.from({ length: 25 }, (_, k) => (65520 + k) & 0xffff));
    expect(atClient.map((g) => g.ts)).toEqual(Array.from({ length: 25 }, (_, k) => 1000 + k * 960));
    expect(atClient.map((g) => g.marker)).toEqual(Array.from({ length: 25 }, (_, k) => k === 0));
    expect(new Set(atClient.map((g) => g.ssrc))).toEqual(new Set([serverTx.sender.ssrc]));
    atClient.forEach((g, k) => expect(g.payload.equals(payloadOf(k))).toBe(true));
    // werift sends a sender report every 0.5-1.5 s from the counters the fast path keeps.
    const counts = (clientTx.receiver as unknown as { remotePacketCountBySsrc: Record<number, number> }).remotePacketCountBySsrc;
    await until(() => counts[serverTx.sender.ssrc] === 25, 4000);
  });

  it('drops a packet that fails SRTP authentication', async () => {
    const before = atServerFast.length;
    const dtls = clientTx.dtlsTransport as unknown as {
      srtp: { localContext: { encryptRtp(p: Buffer, h: RtpHeader): Buffer } };
      iceTransport: { connection: { nominated: { protocol: { transport: { socket: import('node:dgram').Socket } }; remoteAddr: [string, number] } } };
    };
    const pair = dtls.iceTransport.connection.nominated;
    const ssrc = clientTx.sender.ssrc;
    const packet = (seq: number) => dtls.srtp.localContext.encryptRtp(payloadOf(seq), new RtpHeader({ payloadType: PT, sequenceNumber: seq, timestamp: seq * 960, ssrc }));
    const tampered = packet(40);
    tampered[20] = tampered[20]! ^ 0xff;
    pair.protocol.transport.socket.send(tampered, pair.remoteAddr[1], pair.remoteAddr[0]);
    pair.protocol.transport.socket.send(packet(41), pair.remoteAddr[1], pair.remoteAddr[0]);
    await until(() => atServerFast.length === before + 1, 3000);
    expect(atServerFast.at(-1)!.seq).toBe(41);
  });

  it('after detach werift carries the call on the same SRTP contexts', async () => {
    fast!.detach();
    const clientBefore = atClient.length;
    await serverTx.sender.sendRtp(new RtpPacket(new RtpHeader({ payloadType: PT, sequenceNumber: 9, timestamp: 99_000 }), payloadOf(9)));
    await until(() => atClient.length === clientBefore + 1, 3000);
    expect(atClient.at(-1)!.payload.equals(payloadOf(9))).toBe(true);
    const weriftBefore = atServerWerift.length;
    await clientTx.sender.sendRtp(new RtpPacket(new RtpHeader({ payloadType: PT, sequenceNumber: 50, timestamp: 50 * 960 }), payloadOf(50)));
    await until(() => atServerWerift.length === weriftBefore + 1, 3000);
    expect(fast!.send(payloadOf(1), 10, 100_000, false)).toBe(false);
  });
});

describe('ntpTimestamp', () => {
  it('is seconds since 1900 with a binary fraction', () => {
    expect(ntpTimestamp(0)).toBe(2_208_988_800n << 32n);
    expect(ntpTimestamp(1500)).toBe(((2_208_988_801n) << 32n) | 0x8000_0000n);
  });
});
