/**
 * A call carried by one WebSocket media stream: a telephony provider's (Twilio, Telnyx, Plivo) or
 * a stream client's (`GET /v1/stream`). Three parts: the serializer (pure: messages <-> frames and
 * events), the media socket this transport owns (media-socket.ts), and a sink on the playout
 * engine (socket-sink.ts), made when the stream's `start` says the format.
 *
 * Constraints it encodes:
 * - Nothing is sent before `start` (there is no stream to address): reply audio waits in a
 *   DeferredOutput and goes out the moment the engine exists.
 * - Marks are the truth of what was heard (socket-sink.ts); a clear's echoes are not (the engine
 *   ignores acknowledgements of cleared frames).
 * - A stream can be replaced mid-call (the edge restarted; Twilio asked `<Connect action>` and
 *   opened a new one): `streamLost()` pauses sending, and a later `start` for the same call
 *   switches to the new stream with an empty far buffer. A `start` for another call is ignored;
 *   one for the current stream is a replay (the edge sends it to every media socket it accepts).
 * - A phone stream that brings no media for `noMediaMs` after its `start` is closed as
 *   `no_media` (no-media-watchdog.ts).
 * - A stream client's messages are held to its limits and its Opus decoded before anything else
 *   (stream-client-intake.ts); its `ping` is answered there.
 */
import type { ChannelMessage } from '@switchboard/protocol';
import type { AudioFrame } from '../../audio/frame.ts';
import type { PlayoutEngine } from '../../audio/playout/engine.ts';
import { initResampler } from '../../audio/resampler.ts';
import { ReceiveBatch, type BatchTarget } from '../receive-batch.ts';
import type { MediaTransport } from '../types.ts';
import { PendingEvents } from '../pending-events.ts';
import { DeferredOutput } from './deferred-output.ts';
import { MediaSocket } from './media-socket.ts';
import type { InboundEvent, MediaSerializer, StreamStart, WireMessage } from './serializer.ts';
import { encodeStarted } from './serializers/stream.ts';
import { NoMediaWatchdog } from './no-media-watchdog.ts';
import type { SocketSink } from './socket-sink.ts';
import { streamPlayout } from './stream-playout.ts';
import { StreamClientIntake } from './stream-client-intake.ts';

/** Default of noMediaMs for phone streams. */
export const NO_MEDIA_MS = 10_000;

export interface SocketTransportOptions {
  kind: 'phone' | 'stream';
  serializer: MediaSerializer;
  /** Where the media socket goes (the edge, the session, its resume token, this worker). */
  socket: { edgeUrl: string; sessionId: string; token: string; workerId: string };
  /** Closes the call as `no_media` when no audio arrives this long after `start` (0: never). */
  noMediaMs?: number;
  log: (m: string) => void;
  /** Clock of the stream client's limits, ms. Default performance.now. */
  now?: () => number;
}

export class SocketTransport implements MediaTransport, BatchTarget<null, AudioFrame> {
  readonly kind: 'phone' | 'stream';
  readonly output = new DeferredOutput();
  readonly #serializer: MediaSerializer;
  readonly #socket: MediaSocket;
  readonly #log: (m: string) => void;
  readonly #audio = new Set<(f: AudioFrame) => void>();
  readonly #events = new Set<(e: ChannelMessage) => void>();
  readonly #closes = new Set<(reason: string) => void>();
  readonly #starts = new Set<(s: StreamStart) => void>();
  /** Events for a stream client sent before its `start` (a greeting's transcript), sent after it. */
  readonly #pendingEvents = new PendingEvents();
  #engine: PlayoutEngine | null = null;
  #sink: SocketSink | null = null;
  #start: StreamStart | undefined;
  #streams = 0;
  #lost = false;
  /** A cold transfer takes the stream away on purpose: its end pauses the call instead of ending it. */
  #away = false;
  #closed = false;
  #closeReason = '';
  readonly #watchdog: NoMediaWatchdog;
  #decodeErrors = 0;
  /** A stream client's limits and Opus decoder (stream-client-intake.ts); null for phones. */
  readonly #client: StreamClientIntake | null;

  constructor(o: SocketTransportOptions) {
    this.kind = o.kind;
    this.#serializer = o.serializer;
    this.#log = o.log;
    this.#watchdog = new NoMediaWatchdog(o.noMediaMs ?? (o.kind === 'phone' ? NO_MEDIA_MS : 0), () => void this.close('no_media'));
    this.#client =
      o.kind === 'stream'
        ? new StreamClientIntake({
            send: (e) => this.sendEvent(e),
            deliver: (e) => {
              for (const l of this.#events) l(e);
            },
            onAbuse: () => void this.close('abuse'),
            now: o.now ?? (() => performance.now()),
          })
        : null;
    this.#socket = new MediaSocket({
      ...o.socket,
      onMessage: (data) => this.receive(data),
      onGone: (reason) => this.close(`media socket gone: ${reason}`),
      log: o.log,
    });
  }

  /**
   * Loads the resampler's wasm (reply audio is converted to the stream's rate) and opens the
   * media socket (the edge sends the stream's `start` first if it has one).
   */
  async open(): Promise<void> {
    await initResampler();
    await this.#socket.open();
  }

  /** How many streams have carried this call (1 until one was replaced). */
  get streams(): number {
    return this.#streams;
  }

  get start(): StreamStart | undefined {
    return this.#start;
  }

  /** Called once with the stream's details when `start` arrives (at once if it already has). */
  onStart(cb: (s: StreamStart) => void): () => void {
    if (this.#start) {
      cb(this.#start);
      return () => {};
    }
    this.#starts.add(cb);
    return () => this.#starts.delete(cb);
  }

  /** Caller audio, handed over in the tick's receive batch (transport/receive-batch.ts); dropped once closed. */
  deliver(frame: AudioFrame): void {
    if (this.#closed) return;
    for (const l of this.#audio) l(frame);
  }

  onAudio(cb: (frame: AudioFrame) => void): () => void {
    this.#audio.add(cb);
    return () => this.#audio.delete(cb);
  }

  onEvent(cb: (event: ChannelMessage) => void): () => void {
    this.#events.add(cb);
    return () => this.#events.delete(cb);
  }

  onClose(cb: (reason: string) => void): () => void {
    if (this.#closed) {
      cb(this.#closeReason);
      return () => {};
    }
    this.#closes.add(cb);
    return () => this.#closes.delete(cb);
  }

  /** A pipeline event for the far end (stream clients; a phone has no way to show one). */
  sendEvent(event: ChannelMessage): void {
    const start = this.#start;
    if (this.#closed) return;
    if (!start) return this.#pendingEvents.hold(event);
    const msg = this.#serializer.encodeEvent(start, event);
    if (msg !== null) this.#socket.send(msg);
  }

  /** One message from the socket. A message that fails to decode is logged (once per 100) and dropped. */
  receive(data: WireMessage): void {
    if (this.#closed) return;
    const client = this.#client;
    if (client && !client.admit(data, this.#start)) return;
    if (client?.decodesOpus && typeof data !== 'string') return this.#opusPacket(client, data);
    let ev: InboundEvent;
    try {
      ev = this.#serializer.decode(data, this.#start);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (!this.#start && typeof data === 'string') { void this.close(`error: ${message}`); return; } // a refused start ends the call
      if (this.#decodeErrors++ % 100 === 0) this.#log(`${this.#serializer.name}: dropped a message: ${message}`);
      if (this.kind === 'stream') this.sendEvent({ type: 'error', message });
      return;
    }
    switch (ev.kind) {
      case 'start':
        return this.#onStart(ev.start);
      case 'audio':
        this.#watchdog.heard();
        ReceiveBatch.sharedFrames().push(this, ev.frame, null);
        return;
      case 'dtmf':
        for (const l of this.#events) l({ type: 'dtmf', digit: ev.digit });
        return;
      case 'ack': {
        const seq = this.#sink?.seqOf(ev.name);
        if (seq != null) this.#engine?.acknowledge(seq);
        return;
      }
      case 'event':
        this.#client?.event(ev.event, data);
        return;
      case 'stop':
        if (this.#away) return this.streamLost();
        void this.close('phone_hangup');
        return;
      case 'connected':
      case 'cleared':
      case 'ignored':
        return;
    }
  }

  /**
   * The provider's stream `streamId` closed without `stop` (the edge says `media.lost`): sending
   * pauses, what the far end held is gone, and queued audio waits for the next stream's `start`.
   * News of a stream other than the current one is stale: a newer stream has started already.
   */
  streamLost(streamId?: string): void {
    if (this.#closed || !this.#start || this.#lost) return;
    // The edge's news can come after the new stream's `start` (two sockets, no order between them).
    if (streamId !== undefined && streamId !== this.#start.streamId) return;
    this.#lost = true;
    this.#engine?.pause();
    this.#engine?.farBufferLost();
    this.#sink?.drop();
    this.#log(`${this.#serializer.name}: stream ${this.#start.streamId} lost; waiting for a new one`);
  }

  /**
   * The call is about to leave this stream on purpose (a cold transfer): its `stop` pauses the
   * call like a lost stream, and no media is expected (the no-media watchdog rests) until a new
   * stream's `start` brings the caller back, or `awayEnded()` says the transfer did not happen.
   */
  goingAway(): void {
    if (this.#closed) return;
    this.#away = true;
    this.#watchdog.stop();
  }

  /** The transfer is over and the call stays on this stream (the redirect failed). */
  awayEnded(): void {
    if (this.#closed || !this.#away) return;
    this.#away = false;
    if (!this.#lost) this.#watchdog.start();
  }

  stats(): { lateTicks: number; ticksRun: number } {
    const s = this.#engine?.stats();
    return { lateTicks: s?.lateTicks ?? 0, ticksRun: s?.ticksRun ?? 0 };
  }

  /** Stops sending, closes the socket and fires the close listeners once; resolves when the socket has closed. */
  close(reason: string): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#closeReason = reason;
    this.#watchdog.stop();
    this.#engine?.destroy();
    this.#sink?.drop();
    this.output.clear();
    const closing = this.#socket.close();
    const listeners = [...this.#closes];
    this.#closes.clear();
    this.#audio.clear();
    this.#events.clear();
    this.#starts.clear();
    for (const l of listeners) l(reason);
    return closing;
  }

  #onStart(start: StreamStart): void {
    const current = this.#start;
    if (current) {
      if (start.streamId === current.streamId) return; // a replay (the edge sends it to every media socket)
      if (start.callId !== current.callId) return this.#log(`${this.#serializer.name}: ignored a start for another call (${start.callId})`);
      this.#start = start;
      this.#streams++;
      this.#lost = false;
      if (this.#away) {
        this.#away = false;
        this.#watchdog.start();
      }
      this.#sink?.drop();
      this.#engine?.farBufferLost();
      this.#engine?.resume();
      this.#log(`${this.#serializer.name}: call ${start.callId} goes on in stream ${start.streamId}`);
      return;
    }
    this.#start = start;
    this.#streams = 1;
    this.#watchdog.heard();
    this.#client?.started(start);
    const { sink, engine } = streamPlayout(start, this.#serializer, (d) => this.#socket.send(d), () => this.#start);
    this.#sink = sink;
    this.#engine = engine;
    engine.start();
    this.output.attach(engine);
    if (this.kind === 'stream') this.#socket.send(encodeStarted(start));
    this.#pendingEvents.flush((e) => this.sendEvent(e));
    this.#watchdog.start();
    for (const l of this.#starts) l(start);
    this.#starts.clear();
  }

  /** One Opus packet from a stream client: decoded here; a corrupt one is dropped (and reported like a bad message). */
  #opusPacket(client: StreamClientIntake, packet: Uint8Array): void {
    let frame: AudioFrame;
    try {
      frame = client.decode(packet);
    } catch (err) {
      if (this.#decodeErrors++ % 100 === 0) this.sendEvent({ type: 'error', message: `stream: bad Opus packet: ${err instanceof Error ? err.message : String(err)}` });
      return;
    }
    this.#watchdog.heard();
    ReceiveBatch.sharedFrames().push(this, frame, null);
  }
}
