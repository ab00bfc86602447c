import { ProtocolError } from './errors.ts';
import type { Listeners } from './listeners.ts';
import { FRAME_MS, MAX_MESSAGE_BYTES, markMessage, parseServerText, sameFormat, type ServerEvent } from './messages.ts';
import { decodePcm16 } from './pcm16.ts';
import { createPlayer, type Player } from './player.ts';
import type { MarkRecord, ReceivedEvent, StartedInfo, StreamClientEvents, StreamClientOptions, StreamStats } from './stream-types.ts';

/** What the inbound side needs from the socket owner. */
export interface InboundHooks {
  options: StreamClientOptions;
  /** Shared with the client, which counts what it sends. */
  stats: StreamStats;
  listeners: Listeners<StreamClientEvents>;
  /** performance.now() of time 0. */
  timeOrigin: number;
  sendText(text: string): void;
  isOpen(): boolean;
  /** `session` arrived first, as it must. */
  onSession(id: string): void;
  /** The first message was not a valid `session`: the handshake has failed. */
  onHandshakeError(error: ProtocolError): void;
  onStarted(info: StartedInfo): void;
}

/**
 * The server-to-client half of the protocol: validates every message against
 * docs/stream-protocol.md and its order (`session` first; reply audio only after `started`),
 * plays reply audio, echoes marks when reached, honours `clear`, and records it all. A message
 * that breaks the protocol is refused (dropped, or still used where the spec leaves no doubt of
 * its meaning, as a frame of the wrong length) and reported; nothing here throws on server input.
 */
export class Inbound {
  readonly player: Player<MarkRecord>;
  readonly events: ReceivedEvent[] = [];
  readonly marks: MarkRecord[] = [];
  readonly errors: ProtocolError[] = [];
  #hooks: InboundHooks;
  #sessionId = '';
  #startedInfo: StartedInfo | undefined;
  #handshakeFailed = false;
  #aheadReported = false;

  constructor(hooks: InboundHooks) {
    this.#hooks = hooks;
    const { options } = hooks;
    this.player = createPlayer<MarkRecord>(options.playback ?? 'realtime', (options.output ?? options.format).sampleRate, {
      timeOrigin: hooks.timeOrigin,
      onReached: (marks, atMs) => marks.forEach((m) => this.#reached(m, atMs)),
    });
  }

  get sessionId(): string {
    return this.#sessionId;
  }

  get startedInfo(): StartedInfo | undefined {
    return this.#startedInfo;
  }

  /** One frame from the server, received `atMs` after time 0. */
  handle(data: Buffer, isBinary: boolean, atMs: number): void {
    if (this.#handshakeFailed) return;
    this.#hooks.stats.bytesReceived += data.length;
    const excerpt = () => (isBinary ? `<${data.length} bytes>` : data.toString('utf8', 0, 200));
    if (data.length > MAX_MESSAGE_BYTES) {
      return this.#refuse(new ProtocolError('too-large', `${data.length}-byte message exceeds 16 KiB`, excerpt()));
    }
    if (!this.#sessionId && isBinary) {
      return this.#refuse(new ProtocolError('bad-session', 'first message is binary, not `session`', excerpt()));
    }
    if (isBinary) return this.#onAudio(data, atMs);
    const parsed = parseServerText(data.toString('utf8'));
    if (!parsed.ok) return this.#refuse(parsed.error);
    const msg = parsed.message;
    if (!this.#sessionId) {
      if (msg.type === 'session') {
        this.#sessionId = msg.id;
        return this.#hooks.onSession(msg.id);
      }
      const type = msg.type === 'event' ? msg.event.type : msg.type;
      return this.#refuse(new ProtocolError('bad-session', `first message is \`${type}\`, not \`session\``, excerpt()));
    }
    switch (msg.type) {
      case 'session':
        return this.#report(new ProtocolError('unexpected-session', 'a second `session`', excerpt()));
      case 'started':
        if (this.#startedInfo) return this.#report(new ProtocolError('duplicate-started', 'a second `started`', excerpt()));
        return this.#onStarted({ format: msg.format, output: msg.output, atMs }, excerpt());
      case 'mark':
        return this.#onMark(msg.name, atMs);
      case 'clear':
        return this.#onClear(atMs);
      case 'event':
        return this.#onEvent(msg.event, atMs);
    }
  }

  stop(): void {
    this.player.stop();
  }

  #report(error: ProtocolError): void {
    this.errors.push(error);
    this.#hooks.stats.protocolErrors++;
    this.#hooks.listeners.emit('error', error);
  }

  /** Reports a refused message; before `session` it also fails the handshake. */
  #refuse(error: ProtocolError): void {
    this.#report(error);
    if (this.#sessionId) return;
    this.#handshakeFailed = true;
    this.#hooks.onHandshakeError(error);
  }

  #onStarted(info: StartedInfo, excerpt: string): void {
    const { format, output = format } = this.#hooks.options;
    if (!sameFormat(info.format, format) || !sameFormat(info.output, output)) {
      const want = `${format.encoding}@${format.sampleRate} in, ${output.encoding}@${output.sampleRate} out`;
      this.#report(new ProtocolError('format-mismatch', `asked for ${want}`, excerpt));
    }
    this.#startedInfo = info;
    this.player.start();
    this.#hooks.onStarted(info);
    this.#hooks.listeners.emit('started', info);
  }

  #onAudio(data: Buffer, atMs: number): void {
    if (!this.#startedInfo) {
      return this.#report(new ProtocolError('audio-before-started', `${data.length}-byte audio frame before \`started\``));
    }
    if (data.length % 2 !== 0) {
      return this.#report(new ProtocolError('bad-audio', `${data.length}-byte audio frame is not whole PCM16 samples`));
    }
    const rate = this.player.heard.sampleRate;
    const frameBytes = ((rate * FRAME_MS) / 1000) * 2;
    if (data.length !== frameBytes) {
      this.#report(new ProtocolError('frame-duration', `${data.length}-byte frame; 20 ms at ${rate} Hz is ${frameBytes}`));
    }
    const samples = decodePcm16(data);
    this.#hooks.stats.audioBytesReceived += data.length;
    this.#hooks.listeners.emit('audio', samples, atMs);
    this.player.push(samples, atMs);
    const maxAheadMs = this.#hooks.options.maxAheadMs ?? 300;
    if (this.player.queuedMs <= maxAheadMs) this.#aheadReported = false;
    else if (!this.#aheadReported) {
      // Once per excursion: reported again only after the buffer has come back under the limit.
      this.#aheadReported = true;
      const ms = Math.round(this.player.queuedMs);
      this.#report(new ProtocolError('ahead-of-playback', `${ms} ms of reply audio buffered (limit ${maxAheadMs})`));
    }
  }

  #onMark(name: string, atMs: number): void {
    const record: MarkRecord = { name, receivedAtMs: atMs, echoed: false, cleared: false };
    this.marks.push(record);
    this.#hooks.stats.marksReceived++;
    if (this.player.mark(record, atMs)) this.#reached(record, atMs);
  }

  #reached(record: MarkRecord, atMs: number): void {
    record.playedAtMs = atMs;
    if ((this.#hooks.options.echoMarks ?? true) && this.#hooks.isOpen()) {
      this.#hooks.sendText(markMessage(record.name));
      record.echoed = true;
      this.#hooks.stats.marksEchoed++;
    }
    this.#hooks.listeners.emit('mark', record);
  }

  #onClear(atMs: number): void {
    const { droppedSamples, droppedMarks } = this.player.clear(atMs);
    for (const m of droppedMarks) m.cleared = true;
    this.#hooks.stats.clears++;
    this.#hooks.stats.samplesDroppedByClear += droppedSamples;
    this.#aheadReported = false;
    const droppedMs = (droppedSamples / this.player.heard.sampleRate) * 1000;
    this.#hooks.listeners.emit('clear', { atMs, droppedSamples, droppedMs, droppedMarks: droppedMarks.map((m) => m.name) });
  }

  #onEvent(event: ServerEvent, atMs: number): void {
    this.events.push({ atMs, event });
    this.#hooks.listeners.emit('event', event, atMs);
  }
}
