/**
 * A bounded SCTP receiver for werift's data channels. werift 0.25.2's receive side (class SCTP,
 * not exported; reached through RTCSctpTransport) trusts the peer:
 *
 * - receiveDataChunk accepts any TSN ahead of the cumulative TSN, however far (up to 2^31), and
 *   keeps it whatever the advertised window says: `advertisedRwnd` goes negative and nothing
 *   refuses. A peer that never fills a gap makes the worker keep every chunk it sends after it
 *   (the TSN in `sackMisOrdered`; the chunk itself in the stream's `reassembly` when it cannot be
 *   delivered, e.g. ordered with a stream sequence number that never comes).
 * - markReceived copies and sorts the whole out-of-order set for every chunk (and sorts numbers
 *   as strings, so the cumulative TSN can stall where TSNs change digit count), then rebuilds the
 *   set: O(n log n) per chunk, O(n^2 log n) for n gapped chunks. sendSack sorts it again for every
 *   SACK and reports every gap, so a SACK could outgrow the MTU.
 * - InboundStream.addChunk finds a chunk's place by a linear scan.
 *
 * What this installs (methods on werift's SCTP and InboundStream prototypes):
 * - A DATA chunk is dropped (not acknowledged: a real sender retransmits it) when its TSN is more
 *   than MAX_TSN_SPAN ahead of the cumulative TSN, when it does not fit the advertised window
 *   (werift's 1 MiB) or when MAX_RETAINED_CHUNKS chunks are held undelivered. The chunk right after
 *   the cumulative TSN, which fills the gap everything else waits for, may overdraw the window by
 *   SLACK_BYTES / SLACK_CHUNKS, so a window full of reordered data cannot deadlock.
 * - The cumulative TSN advances by set lookups (amortised O(1) per chunk), SACKs are built by a
 *   walk of at most MAX_TSN_SPAN TSNs and carry at most MAX_GAP_BLOCKS gap blocks and
 *   MAX_DUPLICATES duplicate TSNs, and a chunk is placed by binary search.
 * - At most MAX_INBOUND_STREAMS streams are tracked; DATA for a new stream beyond that is dropped.
 * - FORWARD-TSN forgets received TSNs at cost min(set size, distance) instead of re-sorting.
 *
 * So what one association can make the worker hold is bounded (MAX_TSN_SPAN TSNs, window + slack
 * bytes in MAX_RETAINED_CHUNKS + SLACK_CHUNKS chunks) and the work per chunk is bounded by those
 * limits, not by what the peer sent before: total work grows linearly with the chunks sent.
 */
import { RTCSctpTransport } from 'werift';

const PATCHED = Symbol.for('switchboard.sctpReceiveWindow');

/** How far ahead of the cumulative TSN a chunk may be (TSNs). */
export const MAX_TSN_SPAN = 4096;
/** Chunks held undelivered (reordered, or fragments of incomplete messages), over all streams. */
export const MAX_RETAINED_CHUNKS = 4096;
/** What the next in-order chunk may overdraw the window by. */
export const SLACK_BYTES = 64 * 1024;
export const SLACK_CHUNKS = 64;
/** Gap blocks and duplicate TSNs a SACK reports (16 + 4 bytes each stays well under the MTU). */
export const MAX_GAP_BLOCKS = 128;
export const MAX_DUPLICATES = 32;
/** Inbound streams (data channels) tracked per association. */
export const MAX_INBOUND_STREAMS = 256;

const HALF = 2 ** 31;

/** The fields of werift's SCTP DATA chunk this patch reads (its tests build chunks of this shape). */
export interface DataChunkLike {
  type: number;
  flags: number;
  tsn: number;
  streamId: number;
  streamSeqNum: number;
  protocol: number;
  userData: Buffer;
}
interface SackLike {
  gaps: [number, number][];
}
interface InboundStreamLike {
  reassembly: DataChunkLike[];
  streamSequenceNumber: number;
  addChunk(chunk: DataChunkLike): void;
  popMessages(): Iterable<[number, number, Buffer]>;
  pruneChunks(tsn: number): number;
}
export interface SctpLike {
  lastReceivedTsn: number | undefined;
  advertisedRwnd: number;
  sackMisOrdered: Set<number>;
  sackDuplicates: number[];
  sackNeeded: boolean;
  sackImmediate: boolean;
  sackHasNewDataInPacket: boolean;
  isStopped?: boolean;
  inboundStreams: Record<number, InboundStreamLike>;
  getInboundStream(streamId: number): InboundStreamLike;
  receive(streamId: number, ppId: number, data: Buffer): void;
  sendChunk(chunk: unknown): Promise<void>;
  sendSack(): Promise<void>;
  receiveDataChunk(chunk: DataChunkLike): void;
  receiveForwardTsnChunk(chunk: { cumulativeTsn: number; streams: [number, number][] }): void;
}
type SctpProto = SctpLike & { [PATCHED]?: true };

/** How many TSNs `tsn` is ahead of `base` (serial arithmetic); 0 or >= 2^31: not ahead. */
function ahead(tsn: number, base: number): number {
  return (tsn - base) >>> 0;
}

/** Chunks held undelivered over all streams (at most MAX_INBOUND_STREAMS of them). */
export function retainedChunks(sctp: SctpLike): number {
  let n = 0;
  for (const s of Object.values(sctp.inboundStreams)) n += s.reassembly.length;
  return n;
}

/** A stream to put a chunk in: the existing one, or a new one while fewer than the limit exist. */
function streamFor(sctp: SctpLike, streamId: number): InboundStreamLike | undefined {
  if (sctp.inboundStreams[streamId]) return sctp.inboundStreams[streamId];
  if (Object.keys(sctp.inboundStreams).length >= MAX_INBOUND_STREAMS) return undefined;
  return sctp.getInboundStream(streamId);
}

/** Advances the cumulative TSN over received TSNs that follow it, removing them from the set. */
function advance(sctp: SctpLike, from: number): void {
  let cum = from;
  for (;;) {
    const next = (cum + 1) >>> 0;
    if (!sctp.sackMisOrdered.delete(next)) break;
    cum = next;
  }
  sctp.lastReceivedTsn = cum;
}

/** Delivers what a stream can deliver now; the window the delivered chunks held is free again. */
function deliver(sctp: SctpLike, stream: InboundStreamLike): void {
  for (const message of stream.popMessages()) {
    sctp.advertisedRwnd += message[2].length;
    sctp.receive(...message);
  }
}

/** Gap-ack blocks (offsets from the cumulative TSN, ascending), at most MAX_GAP_BLOCKS. */
export function gapBlocks(received: ReadonlySet<number>, cum: number): [number, number][] {
  const gaps: [number, number][] = [];
  let seen = 0;
  for (let off = 1; off <= MAX_TSN_SPAN + 1 && seen < received.size; off++) {
    if (!received.has((cum + off) >>> 0)) continue;
    seen++;
    const last = gaps[gaps.length - 1];
    if (last && last[1] === off - 1) last[1] = off;
    else if (gaps.length === MAX_GAP_BLOCKS) break;
    else gaps.push([off, off]);
  }
  return gaps;
}

function receiveDataChunk(this: SctpLike, chunk: DataChunkLike): void {
  this.sackNeeded = true;
  this.sackImmediate = true;
  const cum = this.lastReceivedTsn;
  if (cum === undefined) return; // no association yet
  const d = ahead(chunk.tsn, cum);
  if (d === 0 || d >= HALF || this.sackMisOrdered.has(chunk.tsn)) {
    if (this.sackDuplicates.length < MAX_DUPLICATES) this.sackDuplicates.push(chunk.tsn);
    return;
  }
  if (d > MAX_TSN_SPAN) return;
  const len = chunk.userData.length;
  const held = retainedChunks(this);
  const fits = len <= this.advertisedRwnd && held < MAX_RETAINED_CHUNKS;
  const fillsGap = d === 1 && len <= this.advertisedRwnd + SLACK_BYTES && held < MAX_RETAINED_CHUNKS + SLACK_CHUNKS;
  if (!fits && !fillsGap) return;
  const stream = streamFor(this, chunk.streamId);
  if (!stream) return;
  if (d === 1) advance(this, chunk.tsn);
  else this.sackMisOrdered.add(chunk.tsn);
  this.sackHasNewDataInPacket = true;
  stream.addChunk(chunk);
  this.advertisedRwnd -= len;
  deliver(this, stream);
}

function receiveForwardTsnChunk(this: SctpLike, chunk: { cumulativeTsn: number; streams: [number, number][] }): void {
  this.sackNeeded = true;
  this.sackImmediate = true;
  const cum = this.lastReceivedTsn;
  if (cum === undefined) return;
  const target = chunk.cumulativeTsn >>> 0;
  const d = ahead(target, cum);
  if (d === 0 || d >= HALF) return;
  const set = this.sackMisOrdered;
  if (set.size <= d) {
    for (const t of set) {
      const a = ahead(t, target);
      if (a === 0 || a >= HALF) set.delete(t);
    }
  } else {
    for (let i = 1; i <= d; i++) set.delete((cum + i) >>> 0);
  }
  advance(this, target);
  const now = this.lastReceivedTsn as number;
  this.sackDuplicates = this.sackDuplicates.filter((t) => {
    const a = ahead(t, now);
    return a !== 0 && a < HALF;
  });
  for (const [streamId, ssn] of chunk.streams) {
    const stream = streamFor(this, streamId);
    if (!stream) continue;
    stream.streamSequenceNumber = (ssn + 1) & 0xffff;
    deliver(this, stream);
  }
  for (const stream of Object.values(this.inboundStreams)) this.advertisedRwnd += stream.pruneChunks(now);
}

/** A chunk's place by binary search (TSN order); a duplicate is refused as werift refuses it. */
function addChunk(this: InboundStreamLike, chunk: DataChunkLike): void {
  const r = this.reassembly;
  const last = r[r.length - 1];
  if (!last || (ahead(chunk.tsn, last.tsn) !== 0 && ahead(chunk.tsn, last.tsn) < HALF)) {
    r.push(chunk);
    return;
  }
  let lo = 0;
  let hi = r.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const a = ahead(chunk.tsn, (r[mid] as DataChunkLike).tsn);
    if (a === 0) throw new Error('duplicate chunk in reassembly');
    if (a < HALF) lo = mid + 1;
    else hi = mid;
  }
  r.splice(lo, 0, chunk);
}

/**
 * Installs the bounded receiver once per process (idempotent). Throws when werift's shape is not
 * the one this was written for, so an upgrade that moves things fails loudly in tests.
 */
export function installSctpReceiveWindow(): void {
  const { sctpProto, streamProto } = weriftSctpPrototypes();
  if (sctpProto[PATCHED]) return;
  for (const m of ['receiveDataChunk', 'receiveForwardTsnChunk', 'sendSack', 'sendChunk', 'getInboundStream'] as const) {
    if (typeof sctpProto[m] !== 'function') throw new Error(`werift: SCTP has no ${m}() (sctp-receive-window.ts)`);
  }
  for (const m of ['addChunk', 'popMessages', 'pruneChunks'] as const) {
    if (typeof streamProto[m] !== 'function') throw new Error(`werift: InboundStream has no ${m}() (sctp-receive-window.ts)`);
  }
  const sendSack = sctpProto.sendSack;
  sctpProto.receiveDataChunk = receiveDataChunk;
  sctpProto.receiveForwardTsnChunk = receiveForwardTsnChunk;
  // werift's own sendSack builds the SACK (its chunk class is not exported); it is handed an
  // empty out-of-order set, so it sorts nothing, and the SACK gets our gap blocks on its way out
  // (sendSack calls sendChunk synchronously, before its first await).
  sctpProto.sendSack = function boundedSendSack(this: SctpLike): Promise<void> {
    if (this.isStopped || !this.sackNeeded || this.lastReceivedTsn === undefined) return sendSack.call(this);
    const received = this.sackMisOrdered;
    const gaps = gapBlocks(received, this.lastReceivedTsn);
    const own = Object.getOwnPropertyDescriptor(this, 'sendChunk');
    const inner = this.sendChunk;
    this.sackMisOrdered = new Set();
    this.sendChunk = (sack: unknown) => {
      (sack as SackLike).gaps = gaps;
      return inner.call(this, sack);
    };
    try {
      return sendSack.call(this);
    } finally {
      this.sackMisOrdered = received;
      if (own) Object.defineProperty(this, 'sendChunk', own);
      else delete (this as Partial<SctpLike>).sendChunk;
    }
  };
  streamProto.addChunk = addChunk;
  sctpProto[PATCHED] = true;
}

/** werift's SCTP and InboundStream prototypes, from an association made on a stand-in DTLS transport. */
function weriftSctpPrototypes(): { sctpProto: SctpProto; streamProto: InboundStreamLike } {
  const transport = new RTCSctpTransport();
  const noop = { unSubscribe: () => {} };
  const dtls = { id: 'sctp-receive-window-probe', onStateChange: { subscribe: () => noop }, sendData: async () => {} };
  (transport as unknown as { setDtlsTransport(d: unknown): void }).setDtlsTransport(dtls);
  const sctp = (transport as unknown as { sctp?: SctpLike }).sctp;
  if (!sctp || typeof sctp.getInboundStream !== 'function') throw new Error('werift: RTCSctpTransport made no SCTP association (sctp-receive-window.ts)');
  const sctpProto = Object.getPrototypeOf(sctp) as SctpProto;
  const streamProto = Object.getPrototypeOf(sctp.getInboundStream(0)) as InboundStreamLike;
  return { sctpProto, streamProto };
}
