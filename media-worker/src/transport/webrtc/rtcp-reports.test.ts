import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RtcpPacketConverter, RtcpRrPacket, RtcpSourceDescriptionPacket, RtcpSrPacket, RtpHeader, RtpPacket, type RTCPeerConnection, type RTCRtpTransceiver } from 'werift';
import { connected, loopbackPeer, OPUS_PAYLOAD_TYPE } from '../../../../test/support/loopback-peer.ts';
import { until } from '../../../../test/support/until.ts';
import { RtcpReports } from './rtcp-reports.ts';

const PT = OPUS_PAYLOAD_TYPE;
const INTERVAL_MS = 200;

describe('RTCP reports (real werift peers on loopback)', () => {
  let client: RTCPeerConnection;
  let server: RTCPeerConnection;
  let clientTx: RTCRtpTransceiver;
  let serverTx: RTCRtpTransceiver;
  let reports: RtcpReports | null = null;
  /** RTCP the client got, one entry per compound packet, in arrival order. */
  const compounds: unknown[][] = [];
  let sending: NodeJS.Timeout | undefined;
  let clientSeq = 0;

  beforeAll(async () => {
    client = loopbackPeer();
    server = loopbackPeer();
    clientTx = client.addTransceiver('audio', { direction: 'sendrecv' });
    await client.setLocalDescription(await client.createOffer());
    await server.setRemoteDescription(client.localDescription!);
    serverTx = server.getTransceivers()[0]!;
    serverTx.setDirection('sendrecv');
    reports = RtcpReports.start(serverTx, INTERVAL_MS);
    await server.setLocalDescription(await server.createAnswer());
    await client.setRemoteDescription(server.localDescription!);
    await Promise.all([connected(client), connected(server)]);
    // Each SRTCP datagram the client decrypts, as its list of RTCP packets.
    const dtls = clientTx.dtlsTransport as unknown as { srtcp: { decrypt(b: Buffer): Buffer } };
    const decrypt = dtls.srtcp.decrypt.bind(dtls.srtcp);
    dtls.srtcp.decrypt = (b: Buffer) => {
      const plain = decrypt(b);
      compounds.push(RtcpPacketConverter.deSerialize(plain));
      return plain;
    };
    // 20 ms audio both ways, as in a call.
    let k = 0;
    sending = setInterval(() => {
      const payload = Buffer.alloc(60, k);
      void clientTx.sender.sendRtp(new RtpPacket(new RtpHeader({ payloadType: PT, sequenceNumber: (clientSeq = (1000 + k) & 0xffff), timestamp: k * 960 }), payload));
      void serverTx.sender.sendRtp(new RtpPacket(new RtpHeader({ payloadType: PT, sequenceNumber: k, timestamp: k * 960 }), payload));
      k++;
    }, 20);
  }, 20_000);

  afterAll(async () => {
    clearInterval(sending);
    reports?.stop();
    await Promise.all([client?.close(), server?.close()]);
  });

  it('sends one compound per interval, a sender report with the caller stream\'s reception report and the CNAME; werift\'s own loops never start', async () => {
    expect(reports).not.toBeNull();
    const clientSsrc = clientTx.sender.ssrc;
    const serverSsrc = serverTx.sender.ssrc;
    const fromServer = () => compounds.filter((c) => c.some((p) => (p instanceof RtcpSrPacket || p instanceof RtcpRrPacket) && p.ssrc !== clientSsrc && p.ssrc !== clientTx.receiver.rtcpSsrc));
    const t0 = performance.now();
    await until(() => fromServer().length >= 8, 10_000);
    const elapsed = performance.now() - t0;
    const got = fromServer();
    // 200 ms ± half between reports: 8 of them take at least ~0.8 s (werift's loops: 2 packets a second).
    expect(elapsed).toBeGreaterThan(4 * INTERVAL_MS);
    expect(reports!.sent).toBeGreaterThanOrEqual(8);
    for (const c of got) {
      expect(c).toHaveLength(2);
      const [sr, sdes] = c as [RtcpSrPacket, RtcpSourceDescriptionPacket];
      expect(sr).toBeInstanceOf(RtcpSrPacket);
      expect(sr.ssrc).toBe(serverSsrc);
      expect(sr.senderInfo.packetCount).toBeGreaterThan(0);
      expect(sr.reports.map((r) => r.ssrc)).toEqual([clientSsrc]);
      expect(sdes).toBeInstanceOf(RtcpSourceDescriptionPacket);
      expect(sdes.chunks[0]!.items[0]!.text).toBe((serverTx.sender as unknown as { cname: string }).cname);
    }
    // The report block follows the caller's stream: its highest sequence number moves with it.
    const last = got.at(-1)![0] as RtcpSrPacket;
    expect(Math.abs((last.reports[0]!.highestSequence & 0xffff) - clientSeq)).toBeLessThan(30);
    // No receiver report of werift's (its loop would send one every 0.5-1.5 s).
    expect(compounds.some((c) => c.some((p) => p instanceof RtcpRrPacket && p.ssrc !== clientSsrc))).toBe(false);
  }, 20_000);

  it('keeps round-trip bookkeeping both ways: LSR/DLSR of the caller\'s sender reports, and our sender\'s RTT from the caller\'s reports', async () => {
    // The caller's werift sends its sender reports every 0.5-1.5 s; ours then carry LSR and DLSR.
    await until(() => compounds.some((c) => c.some((p) => p instanceof RtcpSrPacket && p.ssrc === serverTx.sender.ssrc && p.reports[0]!.lsr !== 0)), 10_000);
    const withLsr = compounds.flat().filter((p): p is RtcpSrPacket => p instanceof RtcpSrPacket && p.ssrc === serverTx.sender.ssrc && p.reports[0]!.lsr !== 0);
    expect(withLsr.at(-1)!.reports[0]!.dlsr).toBeGreaterThan(0);
    // The caller's receiver reports echo our SR's LSR: werift's sender computes the RTT from them.
    const sender = serverTx.sender as unknown as { rtt?: number };
    await until(() => sender.rtt !== undefined, 10_000);
    expect(sender.rtt!).toBeGreaterThanOrEqual(0);
    expect(sender.rtt!).toBeLessThan(0.5);
  }, 25_000);

  it('stops sending once stopped', async () => {
    reports!.stop();
    const sent = reports!.sent;
    await new Promise((r) => setTimeout(r, 3 * INTERVAL_MS));
    expect(reports!.sent).toBe(sent);
  });
});
