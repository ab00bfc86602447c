import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RTCDataChannel, RTCPeerConnection } from 'werift';
import { connected, loopbackPeer } from '../../../test/support/loopback-peer.ts';
import { until } from '../../../test/support/until.ts';
import {
  gapBlocks,
  installSctpReceiveWindow,
  MAX_GAP_BLOCKS,
  MAX_RETAINED_CHUNKS,
  MAX_TSN_SPAN,
  retainedChunks,
  SLACK_BYTES,
  SLACK_CHUNKS,
  type SctpLike,
  type DataChunkLike,
} from './sctp-receive-window.ts';

/** SCTP DATA chunk flags (RFC 9260 3.3.1) and the data channel's string PPID (RFC 8831). */
const LAST = 1;
const FIRST = 2;
const UNORDERED = 4;
const PPID_STRING = 51;

type DataChunk = DataChunkLike;
type DataChunkClass = new (flags: number) => DataChunk;
type Sctp = SctpLike & { sendChunk(chunk: unknown): Promise<void> };

const sctpOf = (pc: RTCPeerConnection) => (pc.sctpTransport as unknown as { sctp: Sctp }).sctp;

/**
 * Two real werift peers on loopback with an open `events` channel; the client side can also put
 * hand-made DATA chunks on the wire (through its DTLS association, as a hostile peer would).
 */
async function pair() {
  const client = loopbackPeer();
  const server = loopbackPeer();
  const ch = client.createDataChannel('events');
  const got: string[] = [];
  let serverCh: RTCDataChannel | undefined;
  server.onDataChannel.subscribe((c) => {
    serverCh = c;
    c.onMessage.subscribe((m) => got.push(m.toString()));
  });
  await client.setLocalDescription(await client.createOffer());
  await server.setRemoteDescription(client.localDescription!);
  await server.setLocalDescription(await server.createAnswer());
  await client.setRemoteDescription(server.localDescription!);
  await Promise.all([connected(client), connected(server)]);
  await until(() => ch.readyState === 'open' && serverCh?.readyState === 'open', 10_000);
  const clientSctp = sctpOf(client);
  const serverSctp = sctpOf(server);
  // werift does not export its chunk classes: the class of the first DATA chunk the client sends.
  let DataChunkCtor: DataChunkClass | undefined;
  clientSctp.sendChunk = function (chunk: unknown) {
    if ((chunk as DataChunk).type === 0) DataChunkCtor ??= (chunk as object).constructor as DataChunkClass;
    return Object.getPrototypeOf(clientSctp).sendChunk.call(clientSctp, chunk);
  };
  ch.send('hello');
  await until(() => got.length === 1 && DataChunkCtor !== undefined, 5000);
  delete (clientSctp as Partial<Sctp>).sendChunk;
  const Ctor = DataChunkCtor!;
  const chunk = (tsn: number, flags: number, ssn: number, bytes: number): DataChunk => {
    const c = new Ctor(flags);
    c.tsn = tsn >>> 0;
    c.streamId = ch.id;
    c.streamSeqNum = ssn & 0xffff;
    c.protocol = PPID_STRING;
    c.userData = Buffer.alloc(bytes, 0x61);
    return c;
  };
  return { client, server, ch, got, clientSctp, serverSctp, chunk };
}

describe('gapBlocks', () => {
  it('reports received TSNs as ascending offsets from the cumulative TSN, across the 2^32 wrap and digit counts', () => {
    const cum = 2 ** 32 - 3;
    const received = new Set([cum + 2, cum + 3, cum + 5, 6, 7, 8].map((t) => t >>> 0));
    // cum + 5 = 2, so 2 and then 6-8 (offsets 9-11) follow; werift sorted these as strings.
    expect(gapBlocks(received, cum)).toEqual([
      [2, 3],
      [5, 5],
      [9, 11],
    ]);
  });

  it('reports at most MAX_GAP_BLOCKS blocks, the ones nearest the cumulative TSN', () => {
    const received = new Set(Array.from({ length: 1000 }, (_, i) => 100 + 2 + 2 * i));
    const gaps = gapBlocks(received, 100);
    expect(gaps).toHaveLength(MAX_GAP_BLOCKS);
    expect(gaps[0]).toEqual([2, 2]);
    expect(gaps[MAX_GAP_BLOCKS - 1]).toEqual([2 * MAX_GAP_BLOCKS, 2 * MAX_GAP_BLOCKS]);
  });
});

describe('werift SCTP receive window (real werift peers over loopback DTLS/UDP)', () => {
  const open: RTCPeerConnection[] = [];
  beforeAll(() => installSctpReceiveWindow());
  afterEach(async () => {
    for (const pc of open.splice(0)) await pc.close();
  });

  it('still delivers ordinary traffic in order: small messages and a fragmented 60 KiB one', async () => {
    const p = await pair();
    open.push(p.client, p.server);
    const sent: string[] = [];
    for (let i = 0; i < 300; i++) sent.push(`m${i}`);
    sent.splice(150, 0, 'x'.repeat(60 * 1024));
    for (const m of sent) p.ch.send(m);
    await until(() => p.got.length === 1 + sent.length, 10_000);
    expect(p.got.slice(1)).toEqual(sent);
    expect(p.serverSctp.sackMisOrdered.size).toBe(0);
    expect(retainedChunks(p.serverSctp)).toBe(0);
  }, 30_000);

  it('drops a chunk far beyond the window instead of keeping or delivering it', async () => {
    const p = await pair();
    open.push(p.client, p.server);
    const cum = p.serverSctp.lastReceivedTsn!;
    await p.clientSctp.sendChunk(p.chunk(cum + 100_000, FIRST | LAST | UNORDERED, 0, 10));
    await p.clientSctp.sendChunk(p.chunk(cum + MAX_TSN_SPAN + 1, FIRST | LAST | UNORDERED, 0, 10));
    // A marker inside the window, after them: once it is delivered, the others were handled.
    await p.clientSctp.sendChunk(p.chunk(cum + 2, FIRST | LAST | UNORDERED, 0, 3));
    await until(() => p.got.length === 2, 5000);
    await new Promise((r) => setTimeout(r, 50));
    expect(p.got).toEqual(['hello', 'aaa']);
    expect([...p.serverSctp.sackMisOrdered]).toEqual([(cum + 2) >>> 0]);
  }, 30_000);

  it('holds a bounded number of chunks from a peer that never fills its gaps, and acknowledges in bounded SACKs', async () => {
    const p = await pair();
    open.push(p.client, p.server);
    const gapsReported: number[] = [];
    const proto = Object.getPrototypeOf(p.serverSctp) as Sctp;
    p.serverSctp.sendChunk = function (c: unknown) {
      const gaps = (c as { gaps?: unknown[] }).gaps;
      if (gaps) gapsReported.push(gaps.length);
      return proto.sendChunk.call(p.serverSctp, c);
    };
    const cum = p.serverSctp.lastReceivedTsn!;
    // 20,000 ordered chunks whose stream sequence number never comes (undeliverable, so kept), every
    // other TSN, the one right after the cumulative TSN never sent.
    const N = 20_000;
    for (let i = 0; i < N; i++) {
      await p.clientSctp.sendChunk(p.chunk(cum + 2 + 2 * i, FIRST | LAST, 1000, 100));
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 1));
    }
    // A marker after them, in a TSN left free.
    await p.clientSctp.sendChunk(p.chunk(cum + 3, FIRST | LAST | UNORDERED, 0, 3));
    // The marker is held behind the undeliverable chunks of its stream (werift delivers a stream's
    // chunks in TSN order); once the server has it, every earlier chunk was handled.
    const s = p.serverSctp;
    await until(() => s.sackMisOrdered.has((cum + 3) >>> 0), 10_000);
    console.log(`after ${N} gapped chunks: ${s.sackMisOrdered.size} TSNs and ${retainedChunks(s)} chunks held, window ${s.advertisedRwnd} bytes`);
    expect(s.sackMisOrdered.size).toBeLessThanOrEqual(MAX_TSN_SPAN);
    expect(retainedChunks(s)).toBeLessThanOrEqual(MAX_RETAINED_CHUNKS + SLACK_CHUNKS);
    expect(s.advertisedRwnd).toBeGreaterThanOrEqual(-SLACK_BYTES);
    expect(Math.max(...gapsReported)).toBeLessThanOrEqual(MAX_GAP_BLOCKS);
    expect(gapsReported.length).toBeGreaterThan(0);
  }, 60_000);

  it('holds about as much after 20,000 gapped chunks as after 2,000, so each chunk costs bounded work', async () => {
    const held: number[] = [];
    for (const n of [2000, 20_000]) {
      const p = await pair();
      open.push(p.client, p.server);
      const s = p.serverSctp;
      const cum = s.lastReceivedTsn!;
      // Straight into the association's receive path (no UDP loss to muddy the count).
      const started = performance.now();
      for (let i = 0; i < n; i++) s.receiveDataChunk(p.chunk(cum + 2 + 2 * i, FIRST | LAST, 1000, 100));
      const ms = performance.now() - started;
      held.push(s.sackMisOrdered.size + retainedChunks(s));
      console.log(`${n} gapped chunks: ${ms.toFixed(1)} ms, ${s.sackMisOrdered.size} TSNs / ${retainedChunks(s)} chunks held`);
    }
    // What 20,000 chunks leave held is what 2,000 do: bounded, so each chunk costs bounded work.
    expect(held[1]).toBeLessThanOrEqual(2 * (MAX_TSN_SPAN + MAX_RETAINED_CHUNKS + SLACK_CHUNKS));
    expect(held[1]).toBeLessThanOrEqual(2 * held[0]!);
  }, 60_000);
});
