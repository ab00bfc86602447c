import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UdpTransport } from 'werift';
import { startCoturn, type LocalCoturn } from '../../../scripts/stack/coturn.ts';
import { connected, loopbackPeer } from '../../../test/support/loopback-peer.ts';
import { WebRtcTransport } from '../transport/webrtc/webrtc-transport.ts';
import { installWeriftPatches } from './index.ts';
import { bindInRange } from './udp-port-range.ts';

installWeriftPatches();

/**
 * Ports above Linux's ephemeral range (32768-60999 by default), so sockets bound to port 0
 * elsewhere in the process (the client peers) do not take them; coturn relays on other ports.
 */
const RANGE: [number, number] = [61_100, 61_159];
const COTURN_RELAY: [number, number] = [62_000, 62_199];
const SECRET = 'port-range-test-secret';

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

function socket(): Socket {
  const s = createSocket('udp4');
  open.push({ close: () => new Promise<void>((r) => s.close(() => r())) });
  return s;
}

describe('bindInRange', () => {
  it('gives concurrent sockets distinct ports of the range, skips ports in use, and fails when the range is full', async () => {
    const range: [number, number] = [61_200, 61_209];
    const squatter = socket();
    await new Promise<void>((r) => squatter.bind(61_205, '127.0.0.1', r));
    const ports = await Promise.all(Array.from({ length: 9 }, () => bindInRange(socket(), range, '127.0.0.1')));
    expect(new Set(ports).size).toBe(9);
    expect(ports).not.toContain(61_205);
    expect(ports.every((p) => p >= range[0] && p <= range[1])).toBe(true);
    await expect(bindInRange(socket(), range, '127.0.0.1')).rejects.toThrow('no free UDP port in 61200-61209 on 127.0.0.1');
  });

  it('starts at a random port of the range and wraps around', async () => {
    expect(await bindInRange(socket(), [61_210, 61_219], '127.0.0.1', () => 0.95)).toBe(61_219);
    expect(await bindInRange(socket(), [61_210, 61_219], '127.0.0.1', () => 0.95)).toBe(61_210);
  });
});

describe("werift's UdpTransport with a port range (ICE host and TURN client sockets)", () => {
  it('binds 50 transports made at once in a 60-port range to 50 distinct ports', async () => {
    const transports = await Promise.all(
      Array.from({ length: 50 }, () => UdpTransport.init('udp4', { portRange: RANGE, interfaceAddresses: { udp4: '127.0.0.1' } })),
    );
    for (const t of transports) open.push(t);
    const ports = transports.map((t) => t.port);
    expect(new Set(ports).size).toBe(50);
    expect(ports.every((p) => p >= RANGE[0] && p <= RANGE[1])).toBe(true);
  });
});

describe('worker processes sharing a port range', () => {
  /**
   * werift's own findPort probes a port (bind, close) and binds the real socket afterwards: a
   * process binding the port in between makes the real bind fail with EADDRINUSE on a socket
   * with no 'error' listener, an uncaught exception that ends the worker. Four processes churning
   * 10 transports at a time in 40 ports hit that a few times in 4000 binds without the patch.
   */
  it('4 processes binding 4000 transports in one 40-port range: every bind succeeds, none throws', { timeout: 60_000 }, async () => {
    const child = new URL('./udp-port-range.child.ts', import.meta.url).pathname;
    const run = () =>
      new Promise<{ bound: number; uncaught: number; failed: number }>((resolve, reject) =>
        execFile(process.execPath, [child, '61300', '61339', '100', '10'], { timeout: 50_000 }, (err, stdout, stderr) =>
          err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout.trim().split('\n').pop()!)),
        ),
      );
    const results = await Promise.all([run(), run(), run(), run()]);
    expect(results).toEqual(Array.from({ length: 4 }, () => ({ bound: 1000, uncaught: 0, failed: 0 })));
  });
});

describe('20 answers at once with a port range and TURN (a real coturn)', () => {
  let coturn: LocalCoturn;
  beforeAll(async () => {
    coturn = await startCoturn({ secret: SECRET, minPort: COTURN_RELAY[0], maxPort: COTURN_RELAY[1] });
  });
  afterAll(async () => {
    await coturn?.stop();
  });

  it('all answer and connect, every host and TURN client socket on its own port of the range', { timeout: 60_000 }, async () => {
    const username = `${Math.floor(Date.now() / 1000) + 600}:worker`;
    const credential = createHmac('sha1', SECRET).update(username).digest('base64');
    const iceServers = [{ urls: [coturn.urls[0]!], username, credential }];

    const clients = Array.from({ length: 20 }, () => {
      const pc = loopbackPeer();
      open.push(pc);
      pc.addTransceiver('audio', { direction: 'sendrecv' });
      pc.createDataChannel('events');
      return pc;
    });
    const offers = await Promise.all(
      clients.map(async (pc) => {
        await pc.setLocalDescription(await pc.createOffer());
        return pc.localDescription!.sdp;
      }),
    );
    const answers = await Promise.all(
      offers.map((offer) =>
        WebRtcTransport.answer(offer, {
          iceServers,
          icePolicy: 'all',
          portRange: RANGE,
          publicIp: '',
          interfaceAddress: '127.0.0.1',
          allowPeerAddresses: ['loopback'],
        }),
      ),
    );
    const workerConnected = answers.map(({ transport }) => {
      open.push({ close: () => transport.close('test_done') });
      return new Promise<void>((r) => transport.onConnected(r));
    });
    await Promise.all(clients.map((pc, i) => pc.setRemoteDescription({ type: 'answer', sdp: answers[i]!.answer })));
    await Promise.all([...clients.map(connected), ...workerConnected]);

    // Each answer's host socket (the host candidate's port) and TURN client socket (the relay
    // candidate's rport: its address as coturn sees it) come from the range.
    const ports: number[] = [];
    for (const { answer } of answers) {
      const host = /^a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 (\d+) typ host/m.exec(answer);
      const relay = /^a=candidate:\S+ 1 udp \d+ \S+ \d+ typ relay raddr \S+ rport (\d+)/m.exec(answer);
      expect(host, answer).not.toBeNull();
      expect(relay, answer).not.toBeNull();
      ports.push(Number(host![1]), Number(relay![1]));
    }
    expect(ports).toHaveLength(40);
    expect(new Set(ports).size).toBe(40);
    expect(ports.every((p) => p >= RANGE[0] && p <= RANGE[1]), ports.join(' ')).toBe(true);
  });
});
