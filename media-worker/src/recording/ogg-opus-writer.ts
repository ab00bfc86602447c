/**
 * A pure Ogg Opus serializer (RFC 7845 on Ogg, RFC 3533), mono, channel mapping family 0. It
 * does no I/O: every call returns the finished pages (each a Uint8Array) for the caller to write.
 *
 * Layout: page 0 holds only the OpusHead packet (BOS), page 1 only OpusTags, audio starts on
 * page 2 (RFC 7845 §3). Audio packets are collected into pages; a page is emitted when it holds
 * `pageDurationSamples` of audio (default 1 s, so a crash loses at most ~1 s) or when the next
 * packet would not fit its 255 lacing values. The page is emitted when the packet that does not
 * fit it arrives, so the last packets are always held back for the EOS page: end trimming (a
 * final granule below the packets' total, RFC 7845 §4.4) is only allowed on the last page.
 *
 * Granule positions count 48 kHz samples of decoded output, pre-skip included: a page's granule
 * is the sample count at the end of the last packet completed on it.
 */
import { getRandomValues } from 'node:crypto';
import { buildOggPage, MAX_PAGE_PACKET_BYTES, MAX_SEGMENTS, OGG_BOS, OGG_EOS, segmentCount } from './ogg-page.ts';

export const OPUS_GRANULE_RATE = 48000;
export const DEFAULT_VENDOR = 'switchboard-media-worker';

export interface OggOpusWriterOptions {
  /** Samples (at 48 kHz) the decoder drops at the start: the encoder's lookahead. */
  readonly preSkip: number;
  /** Rate the audio came in at (informational, OpusHead field); 0 = unspecified. */
  readonly inputSampleRate?: number;
  readonly vendor?: string;
  /** User comments, each `KEY=value` (key: printable ASCII without '='). */
  readonly comments?: readonly string[];
  /** Bitstream serial number; random by default (RFC 3533 asks for unique serials). */
  readonly serial?: number;
  /** Audio per page in 48 kHz samples; default 48000 (1 s). */
  readonly pageDurationSamples?: number;
}

export class OggOpusWriter {
  readonly serial: number;
  readonly preSkip: number;
  readonly #head: Uint8Array;
  readonly #tags: Uint8Array;
  readonly #pageDuration: number;
  #headersWritten = false;
  #ended = false;
  #sequence = 0;
  /** Granule after every packet written so far (48 kHz samples). */
  #granule = 0;
  /** Granule of the last emitted page. */
  #pageGranule = 0;
  #pending: Uint8Array[] = [];
  #pendingSegments = 0;
  #pendingSamples = 0;

  constructor(options: OggOpusWriterOptions) {
    const { preSkip } = options;
    if (!Number.isInteger(preSkip) || preSkip < 0 || preSkip > 0xffff) throw new RangeError(`bad pre-skip ${preSkip}`);
    const inputRate = options.inputSampleRate ?? 0;
    if (!Number.isInteger(inputRate) || inputRate < 0 || inputRate > 0xffffffff) {
      throw new RangeError(`bad input sample rate ${inputRate}`);
    }
    const pageDuration = options.pageDurationSamples ?? OPUS_GRANULE_RATE;
    if (!Number.isInteger(pageDuration) || pageDuration <= 0) throw new RangeError(`bad page duration ${pageDuration}`);
    this.preSkip = preSkip;
    this.#pageDuration = pageDuration;
    this.serial = options.serial ?? getRandomValues(new Uint32Array(1))[0]!;
    this.#head = opusHead(preSkip, inputRate);
    this.#tags = opusTags(options.vendor ?? DEFAULT_VENDOR, options.comments ?? []);
  }

  /** 48 kHz samples of all packets written so far, pre-skip included. */
  get granule(): number {
    return this.#granule;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** The OpusHead (BOS) and OpusTags pages, once; afterwards an empty list. */
  headers(): Uint8Array[] {
    if (this.#headersWritten) return [];
    this.#headersWritten = true;
    return [this.#page(OGG_BOS, 0, [this.#head]), this.#page(0, 0, [this.#tags])];
  }

  /**
   * Adds one Opus packet decoding to `samples48` samples at 48 kHz (960 for 20 ms). Returns the
   * pages this completes (headers first if not written yet); often none.
   */
  writePacket(packet: Uint8Array, samples48: number): Uint8Array[] {
    if (this.#ended) throw new Error('Ogg Opus stream already ended');
    if (packet.length === 0 || packet.length > MAX_PAGE_PACKET_BYTES) {
      throw new RangeError(`Opus packet of ${packet.length} bytes (1..${MAX_PAGE_PACKET_BYTES})`);
    }
    if (!Number.isInteger(samples48) || samples48 <= 0) throw new RangeError(`bad packet duration ${samples48}`);
    const out = this.headers();
    const segments = segmentCount(packet.length);
    if (
      this.#pending.length > 0 &&
      (this.#pendingSegments + segments > MAX_SEGMENTS || this.#pendingSamples >= this.#pageDuration)
    ) {
      out.push(this.#flushPending(0, this.#granule));
    }
    this.#pending.push(packet);
    this.#pendingSegments += segments;
    this.#pendingSamples += samples48;
    this.#granule += samples48;
    return out;
  }

  /**
   * Emits the held-back packets on the final page with the EOS flag. `finalGranule` trims the
   * end (RFC 7845 §4.4): the decoder plays only up to it. It must lie after the start of the
   * last page's audio and at most at the packets' end; default: the packets' end.
   */
  end(finalGranule: number = this.#granule): Uint8Array[] {
    if (this.#ended) throw new Error('Ogg Opus stream already ended');
    const out = this.headers();
    const hasAudio = this.#pending.length > 0;
    const lowest = hasAudio ? this.#pageGranule + 1 : this.#pageGranule;
    if (!Number.isInteger(finalGranule) || finalGranule < lowest || finalGranule > this.#granule) {
      throw new RangeError(`final granule ${finalGranule} outside ${lowest}..${this.#granule}`);
    }
    // With no audio at all the EOS page is empty (no packet ends on it) but keeps the stream's
    // granule so readers see a duration of 0 rather than -1.
    out.push(this.#flushPending(OGG_EOS, finalGranule));
    this.#ended = true;
    return out;
  }

  #flushPending(flags: number, granule: number): Uint8Array {
    const page = this.#page(flags, granule, this.#pending);
    this.#pageGranule = granule;
    this.#pending = [];
    this.#pendingSegments = 0;
    this.#pendingSamples = 0;
    return page;
  }

  #page(flags: number, granule: number, packets: readonly Uint8Array[]): Uint8Array {
    return buildOggPage({ flags, granule, serial: this.serial, sequence: this.#sequence++, packets });
  }
}

/** OpusHead (RFC 7845 §5.1): version 1, one channel, mapping family 0, output gain 0. */
function opusHead(preSkip: number, inputRate: number): Uint8Array {
  const head = new Uint8Array(19);
  const view = new DataView(head.buffer);
  head.set(new TextEncoder().encode('OpusHead'), 0);
  head[8] = 1; // version
  head[9] = 1; // channel count
  view.setUint16(10, preSkip, true);
  view.setUint32(12, inputRate, true);
  view.setInt16(16, 0, true); // output gain (Q7.8 dB)
  head[18] = 0; // mapping family 0: mono or stereo, no mapping table
  return head;
}

/** OpusTags (RFC 7845 §5.2): vendor string and `KEY=value` comments, lengths as u32 LE. */
function opusTags(vendor: string, comments: readonly string[]): Uint8Array {
  const enc = new TextEncoder();
  for (const c of comments) {
    const eq = c.indexOf('=');
    if (eq <= 0 || !/^[\x20-\x3c\x3e-\x7d]+$/.test(c.slice(0, eq))) {
      throw new RangeError(`Opus comment must be KEY=value with a printable ASCII key: ${JSON.stringify(c)}`);
    }
  }
  const parts = [enc.encode(vendor), ...comments.map((c) => enc.encode(c))];
  // magic, comment count, then each string (vendor first) with its u32 length
  const size = 8 + 4 + parts.reduce((n, p) => n + 4 + p.length, 0);
  // One page holds it (it would otherwise need continued pages, which this writer does not emit).
  if (size > MAX_PAGE_PACKET_BYTES) throw new RangeError(`OpusTags of ${size} bytes do not fit one page`);
  const tags = new Uint8Array(size);
  const view = new DataView(tags.buffer);
  tags.set(enc.encode('OpusTags'), 0);
  let at = 8;
  const put = (p: Uint8Array): void => {
    view.setUint32(at, p.length, true);
    tags.set(p, at + 4);
    at += 4 + p.length;
  };
  put(parts[0]!);
  view.setUint32(at, comments.length, true);
  at += 4;
  for (const p of parts.slice(1)) put(p);
  return tags;
}
