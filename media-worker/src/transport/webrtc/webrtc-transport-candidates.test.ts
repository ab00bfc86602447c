import { createSocket, type Socket } from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCoturn, type LocalCoturn } from '../../../../scripts/stack/coturn.ts';
import { loopbackPeer } from '../../../../test/support/loopback-peer.ts';
import type { PeerAddressClass } from './remote-candidates.ts';
import { WebRtcTransport } from './webrtc-transport.ts';

/**
 * Where the worker's ICE agent sends its connectivity checks. The "client" is a plain UDP socket
 * on loopback (the non-public class this machine has) that records every datagram; its offer is a
 * real werift offer (ICE credentials, DTLS fingerprint, Opus) whose candidates are replaced by
 * that socket's address. The worker gets a STUN server (a real coturn on loopback), so it runs
 * full ICE and checks every remote candidate it keeps; with no ICE servers it would be ICE-lite
 * and never send a check first.
 */

let coturn: LocalCoturn;
beforeAll(async () => {
  coturn = await startCoturn({ secret: 'candidates-test' });
});
afterAll(async () => {
  await coturn?.stop();
});

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

/** A UDP socket on 127.0.0.1 that counts STUN binding requests sent to it. */
async function listener(): Promise<{ port: number; checks: () => number; socket: Socket }> {
  const socket = createSocket('udp4');
  let checks = 0;
  socket.on('message', (msg) => {
    // STUN binding request: type 0x0001 and the magic cookie.
    if (msg.length >= 20 && msg.readUInt16BE(0) === 0x0001 && msg.readUInt32BE(4) === 0x2112a442) checks++;
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  open.push({ close: () => new Promise<void>((r) => socket.close(() => r())) });
  return { port: socket.address().port, checks: () => checks, socket };
}

/** A real werift offer with its candidate lines replaced by `candidates`. */
async function offerWith(candidates: string[]): Promise<string> {
  const client = loopbackPeer();
  open.push(client);
  client.addTransceiver('audio', { direction: 'sendrecv' });
  client.createDataChannel('events');
  await client.setLocalDescription(await client.createOffer());
  const lines = client.localDescription!.sdp.split('\r\n').filter((l) => !l.startsWith('a=candidate:') && l !== 'a=end-of-candidates');
  const at = lines.findIndex((l) => l.startsWith('a=ice-pwd:'));
  lines.splice(at + 1, 0, ...candidates.map((c) => `a=${c}`));
  return lines.join('\r\n');
}

async function answer(offer: string, allowPeerAddresses: PeerAddressClass[], log: string[]): Promise<WebRtcTransport> {
  const { transport } = await WebRtcTransport.answer(offer, {
    iceServers: [{ urls: [`stun:${coturn.host}:${coturn.port}`] }],
    icePolicy: 'all',
    portRange: undefined,
    publicIp: '',
    interfaceAddress: '127.0.0.1',
    allowPeerAddresses,
    log: (m) => log.push(m),
  });
  open.push({ close: () => transport.close('test_done') });
  return transport;
}

const hostCandidate = (port: number, address = '127.0.0.1') => `candidate:1 1 udp 2122260223 ${address} ${port} typ host`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('remote ICE candidates the worker sends checks to (werift, full ICE)', () => {
  it('checks a loopback peer offered in the SDP when loopback is allowed', async () => {
    const peer = await listener();
    await answer(await offerWith([hostCandidate(peer.port)]), ['loopback'], []);
    await expect.poll(peer.checks, { timeout: 5000 }).toBeGreaterThan(0);
  });

  it('never contacts a peer offering only non-public candidates when their class is not allowed, in the SDP or trickled', async () => {
    const peer = await listener();
    const log: string[] = [];
    const t = await answer(await offerWith([hostCandidate(peer.port)]), [], log);
    await t.addRemoteCandidate(hostCandidate(peer.port), '0');
    // The allowed case above sees its first check within tens of ms of the answer.
    await sleep(2000);
    expect(peer.checks()).toBe(0);
    expect(log).toEqual([`remote candidate ignored (loopback): ${JSON.stringify(`a=${hostCandidate(peer.port)}`)}`]);
  });

  it('trickled candidates go through the same gate: allowed ones are checked, the 51st and later are ignored', async () => {
    const [first, late] = [await listener(), await listener()];
    const log: string[] = [];
    const t = await answer(await offerWith([]), ['loopback'], log);
    await t.addRemoteCandidate(hostCandidate(first.port), '0');
    // 49 more on a documentation address (public, never answers) reach the limit of 50...
    for (let i = 0; i < 49; i++) await t.addRemoteCandidate(hostCandidate(40_000 + i, '192.0.2.1'), '0');
    // ...so the next real peer is never contacted.
    await t.addRemoteCandidate(hostCandidate(late.port), '0');
    await expect.poll(first.checks, { timeout: 5000 }).toBeGreaterThan(0);
    await sleep(1000);
    expect(late.checks()).toBe(0);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatch(/^remote candidates beyond 50 ignored/);
  });

  it('an mDNS name is dropped before werift, which would otherwise query it over multicast DNS', async () => {
    const log: string[] = [];
    const t = await answer(await offerWith([]), ['loopback', 'private', 'linklocal'], log);
    const started = performance.now();
    await t.addRemoteCandidate('candidate:1 1 udp 2122260223 4f8e2a1c-0000-4000-8000-000000000001.local 50000 typ host', '0');
    // werift awaits its mDNS query (up to 10 s) inside addIceCandidate; dropped, it returns at once.
    expect(performance.now() - started).toBeLessThan(200);
    expect(log).toEqual([expect.stringMatching(/^remote candidate ignored \(not_ip\)/)]);
  });
});
