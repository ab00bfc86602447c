/**
 * A protocol-level fake of the OpenAI Realtime API (GA, `session.type: "realtime"`), written from
 * OpenAI's API reference (client events: session.update, input_audio_buffer.append/commit/clear,
 * response.create/cancel, conversation.item.create/truncate; server events: session.created/
 * updated, input_audio_buffer.*, response.created, response.output_item.added/done, response.output_audio.delta,
 * response.output_audio_transcript.delta/done, response.function_call_arguments.done, response.done, error). It imports
 * nothing of the project, so tests through it catch the adapter's misreadings of the protocol.
 *
 * A real WebSocket server on 127.0.0.1 (port 0). Tests script it: `responses` is a queue, one
 * entry per `response.create` (or VAD-created response); `speechStarted()` / `speechStopped()`
 * play the server VAD; `dropConnections()` / `closeConnections()` end the connections mid-call and
 * `refuseStatus` refuses the next ones (a reconnecting client). Every client event is recorded in `received`. Audio is PCM16 mono 24 kHz,
 * a 440 Hz tone, sent in `chunkMs` deltas, `chunkDelayMs` apart (0: all at once, as fast as the
 * socket takes it — the model is much faster than real time).
 */
import { STATUS_CODES, createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocketServer, type WebSocket } from 'ws';

const RATE = 24_000;

export interface FakeResponse {
  /** Assistant audio length (ms). Default 0 (no audio item). */
  audioMs?: number;
  /** Audio per delta (ms). Default 100. */
  chunkMs?: number;
  /** Pause between deltas (ms). Default 0. */
  chunkDelayMs?: number;
  /** Pause before `response.created` (ms): the model's latency. Default 0. */
  latencyMs?: number;
  /** Assistant transcript, spread over the audio deltas as transcript deltas. */
  transcript?: string;
  /** A function call after the audio. */
  functionCall?: { name: string; arguments: string };
  /** Sends this `error` event after `afterChunks` deltas (the response then goes on). */
  error?: { afterChunks: number; type: string; code: string; message: string };
  /** Drops the connection (no close frame) after this many deltas. */
  disconnectAfterChunks?: number;
}

export interface FakeOptions {
  /** The key the `Authorization: Bearer` header must carry; anything else gets HTTP 401. Default: any non-empty key. */
  apiKey?: string;
  /** Never answer the WebSocket upgrade (connect timeouts). */
  hangUpgrade?: boolean;
}

export interface Received {
  conn: number;
  event: Record<string, unknown> & { type: string };
}

interface Conn {
  ws: WebSocket;
  index: number;
  session: Record<string, unknown>;
  inputBytes: number;
  response: { id: string; cancelled: boolean } | undefined;
  /** Assistant audio items: ms sent so far. */
  audioItems: Map<string, number>;
  calls: Set<string>;
}

export class FakeRealtimeServer {
  readonly received: Received[] = [];
  /** Server events sent, in order (audio deltas' `delta` replaced by its decoded byte count). */
  readonly sent: Received[] = [];
  readonly headers: IncomingHttpHeaders[] = [];
  /** Scripted responses, consumed in order; an empty queue answers with an empty response. */
  readonly responses: FakeResponse[] = [];
  /** The user transcript sent after the next commit (input transcription enabled). */
  userTranscript = 'hello there';
  /** When set, every new upgrade is refused with this HTTP status (401/403: OpenAI's invalid_api_key body). */
  refuseStatus: number | undefined;
  readonly url: string;
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #conns: Conn[] = [];
  /** Upgrade requests' sockets: the HTTP server no longer tracks them once handed to 'upgrade'. */
  readonly #sockets = new Set<Duplex>();
  #ids = 0;

  private constructor(http: Server, wss: WebSocketServer, port: number) {
    this.#http = http;
    this.#wss = wss;
    this.url = `ws://127.0.0.1:${port}/v1/realtime?model=gpt-realtime`;
  }

  static async start(options: FakeOptions = {}): Promise<FakeRealtimeServer> {
    const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
    const http = createServer((_req, res) => res.writeHead(426).end());
    const port = await new Promise<number>((resolve) => http.listen(0, '127.0.0.1', () => resolve((http.address() as AddressInfo).port)));
    const fake = new FakeRealtimeServer(http, wss, port);
    http.on('upgrade', (req, socket, head) => {
      fake.headers.push(req.headers);
      fake.#sockets.add(socket);
      socket.on('close', () => fake.#sockets.delete(socket));
      if (options.hangUpgrade) return; // the socket stays open, unanswered
      const key = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const status = !key || (options.apiKey !== undefined && key !== options.apiKey) ? 401 : fake.refuseStatus;
      if (status !== undefined) {
        const error = status === 401 || status === 403
          ? { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.' }
          : { type: 'server_error', code: 'server_error', message: 'The server had an error.' };
        const body = JSON.stringify({ error });
        socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => fake.#accept(ws));
    });
    return fake;
  }

  /** Client events of `type`, in order. */
  eventsOf(type: string): Array<Record<string, unknown>> {
    return this.received.filter((r) => r.event.type === type).map((r) => r.event);
  }

  /** Bytes of the server's socket not yet taken by the client's kernel buffers (a paused reader makes it grow). */
  bufferedAmount(): number {
    return this.#conns.reduce((s, c) => s + c.ws.bufferedAmount, 0);
  }

  /** Ms of input audio appended on the latest connection (PCM16 24 kHz). */
  inputMs(): number {
    return ((this.#last()?.inputBytes ?? 0) / 2 / RATE) * 1000;
  }

  get connections(): number {
    return this.#conns.length;
  }

  /** Server VAD: speech started. Cancels the response in progress unless `interrupt_response` is false. */
  speechStarted(): void {
    const c = this.#need();
    this.#send(c, { type: 'input_audio_buffer.speech_started', audio_start_ms: Math.round(this.inputMs()), item_id: this.#id('item') });
    const td = this.#turnDetection(c);
    if (td && td.interrupt_response !== false && c.response) this.#cancel(c, 'turn_detected');
  }

  /** Server VAD: speech stopped; commits, transcribes, and answers unless `create_response` is false. */
  speechStopped(): void {
    const c = this.#need();
    const itemId = this.#id('item');
    this.#send(c, { type: 'input_audio_buffer.speech_stopped', audio_end_ms: Math.round(this.inputMs()), item_id: itemId });
    this.#commit(c, itemId);
    const td = this.#turnDetection(c);
    if (td && td.create_response !== false) void this.#respond(c);
  }

  /** Drops every connection at once (no close frame). */
  dropConnections(): void {
    for (const c of this.#conns) c.ws.terminate();
  }

  /** Closes every open connection with a close frame (`code`, `reason`): the server ending the session. */
  closeConnections(code: number, reason = ''): void {
    for (const c of this.#conns) if (c.ws.readyState === c.ws.OPEN) c.ws.close(code, reason);
  }

  /** Waits until `pred()` holds (polled every 5 ms). */
  async waitFor(pred: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const end = performance.now() + timeoutMs;
    while (!pred()) {
      if (performance.now() > end) throw new Error(`fake OpenAI: timed out waiting for ${what}`);
      await sleep(5);
    }
  }

  async close(): Promise<void> {
    for (const c of this.#conns) c.ws.terminate();
    for (const s of this.#sockets) s.destroy();
    this.#http.closeAllConnections();
    await new Promise<void>((resolve) => this.#wss.close(() => this.#http.close(() => resolve())));
  }

  #accept(ws: WebSocket): void {
    const c: Conn = { ws, index: this.#conns.length, session: { type: 'realtime', model: 'gpt-realtime' }, inputBytes: 0, response: undefined, audioItems: new Map(), calls: new Set() };
    this.#conns.push(c);
    ws.on('message', (data, isBinary) => this.#onMessage(c, isBinary ? '' : String(data)));
    ws.on('error', () => undefined);
    this.#send(c, { type: 'session.created', session: c.session });
  }

  #onMessage(c: Conn, text: string): void {
    let event: Received['event'];
    try {
      event = JSON.parse(text) as Received['event'];
      if (typeof event?.type !== 'string') throw new Error('no type');
    } catch {
      this.#error(c, 'invalid_request_error', 'invalid_json', 'The message could not be parsed as a JSON object with a type.');
      return;
    }
    this.received.push({ conn: c.index, event });
    switch (event.type) {
      case 'session.update': {
        const session = event.session as Record<string, unknown> | undefined;
        if (session?.type !== 'realtime') return this.#error(c, 'invalid_request_error', 'invalid_value', "Missing or invalid 'session.type': expected 'realtime'.", event);
        Object.assign(c.session, session);
        return this.#send(c, { type: 'session.updated', session: c.session });
      }
      case 'input_audio_buffer.append': {
        const audio = String(event.audio ?? '');
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(audio)) return this.#error(c, 'invalid_request_error', 'invalid_value', 'audio is not base64.', event);
        c.inputBytes += Buffer.from(audio, 'base64').length;
        return;
      }
      case 'input_audio_buffer.commit':
        return this.#commit(c, this.#id('item'));
      case 'input_audio_buffer.clear':
        return this.#send(c, { type: 'input_audio_buffer.cleared' });
      case 'response.create':
        if (c.response) return this.#error(c, 'invalid_request_error', 'conversation_already_has_active_response', 'Conversation already has an active response in progress.', event);
        return void this.#respond(c);
      case 'response.cancel':
        if (!c.response) return this.#error(c, 'invalid_request_error', 'response_cancel_not_active', 'Cancellation failed: no active response found', event);
        return this.#cancel(c, 'client_cancelled');
      case 'conversation.item.truncate': {
        const sent = c.audioItems.get(String(event.item_id));
        const end = Number(event.audio_end_ms);
        if (sent === undefined) return this.#error(c, 'invalid_request_error', 'item_not_found', `Item ${String(event.item_id)} not found or not an assistant audio message.`, event);
        if (event.content_index !== 0 || !Number.isInteger(end) || end < 0 || end > sent) {
          return this.#error(c, 'invalid_request_error', 'invalid_value', `audio_end_ms ${end} is out of range (audio is ${sent} ms).`, event);
        }
        return this.#send(c, { type: 'conversation.item.truncated', item_id: event.item_id, content_index: 0, audio_end_ms: end });
      }
      case 'conversation.item.create': {
        const item = event.item as Record<string, unknown> | undefined;
        if (item?.type === 'function_call_output' && (!c.calls.has(String(item.call_id)) || typeof item.output !== 'string')) {
          return this.#error(c, 'invalid_request_error', 'invalid_value', `No function call with call_id ${String(item.call_id)}, or output is not a string.`, event);
        }
        // Message items (API reference, RealtimeConversationItem*Message): user and system content
        // parts are input_text (user also input_audio), assistant parts output_text or output_audio.
        if (item?.type === 'message') {
          const allowed: Record<string, string[]> = { user: ['input_text', 'input_audio'], system: ['input_text'], assistant: ['output_text', 'output_audio'] };
          const parts = Array.isArray(item.content) ? (item.content as Array<Record<string, unknown>>) : [];
          const ok = allowed[String(item.role)] !== undefined && parts.length > 0 && parts.every((p) => allowed[String(item.role)]!.includes(String(p.type)) && (p.type !== 'input_text' && p.type !== 'output_text' || typeof p.text === 'string'));
          if (!ok) return this.#error(c, 'invalid_request_error', 'invalid_value', `Invalid message item for role ${String(item.role)}.`, event);
        }
        const created = { ...item, id: this.#id('item'), status: 'completed' };
        this.#send(c, { type: 'conversation.item.added', item: created });
        return this.#send(c, { type: 'conversation.item.done', item: created });
      }
      default:
        return this.#error(c, 'invalid_request_error', 'unknown_event', `Invalid value: '${event.type}'.`, event);
    }
  }

  #commit(c: Conn, itemId: string): void {
    if (c.inputBytes === 0) return this.#error(c, 'invalid_request_error', 'input_audio_buffer_commit_empty', 'Error committing input audio buffer: buffer is empty.');
    this.#send(c, { type: 'input_audio_buffer.committed', item_id: itemId, previous_item_id: null });
    const audio = c.session.audio as { input?: { transcription?: unknown } } | undefined;
    if (audio?.input?.transcription) {
      this.#send(c, { type: 'conversation.item.input_audio_transcription.completed', item_id: itemId, content_index: 0, transcript: this.userTranscript, usage: { type: 'duration', seconds: 1 } });
    }
  }

  async #respond(c: Conn): Promise<void> {
    const r = this.responses.shift() ?? {};
    const response = { id: this.#id('resp'), cancelled: false };
    c.response = response;
    if (r.latencyMs) await sleep(r.latencyMs);
    const base = { response_id: response.id };
    const output: unknown[] = [];
    this.#send(c, { type: 'response.created', response: { id: response.id, object: 'realtime.response', status: 'in_progress', output: [] } });
    const chunkMs = r.chunkMs ?? 100;
    const chunks = Math.ceil((r.audioMs ?? 0) / chunkMs);
    if (chunks > 0) {
      const itemId = this.#id('item');
      c.audioItems.set(itemId, 0);
      const words = (r.transcript ?? '').split(/(?<= )/);
      const at = { ...base, item_id: itemId, output_index: 0, content_index: 0 };
      this.#send(c, { type: 'response.output_item.added', ...base, output_index: 0, item: { id: itemId, type: 'message', role: 'assistant', status: 'in_progress', content: [] } });
      this.#send(c, { type: 'response.content_part.added', ...at, part: { type: 'audio', transcript: '' } });
      let sentText = '';
      for (let i = 0; i < chunks; i++) {
        if (response.cancelled || c.ws.readyState !== c.ws.OPEN) return;
        if (r.disconnectAfterChunks === i) return void c.ws.terminate();
        if (r.error?.afterChunks === i) this.#error(c, r.error.type, r.error.code, r.error.message);
        const ms = Math.min(chunkMs, (r.audioMs ?? 0) - i * chunkMs);
        this.#send(c, { type: 'response.output_audio.delta', ...at, delta: tone(ms, i * chunkMs) });
        c.audioItems.set(itemId, (c.audioItems.get(itemId) ?? 0) + ms);
        const upTo = Math.round((words.length * (i + 1)) / chunks);
        const text = words.slice(Math.round((words.length * i) / chunks), upTo).join('');
        if (text) this.#send(c, { type: 'response.output_audio_transcript.delta', ...at, delta: text });
        sentText += text;
        if (r.chunkDelayMs) await sleep(r.chunkDelayMs);
      }
      if (response.cancelled) return;
      this.#send(c, { type: 'response.output_audio.done', ...at });
      this.#send(c, { type: 'response.output_audio_transcript.done', ...at, transcript: sentText });
      const item = { id: itemId, type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_audio', transcript: sentText }] };
      this.#send(c, { type: 'response.output_item.done', ...base, output_index: 0, item });
      output.push(item);
    }
    if (r.functionCall) {
      const itemId = this.#id('item');
      const callId = this.#id('call');
      c.calls.add(callId);
      const item = { id: itemId, type: 'function_call', status: 'completed', call_id: callId, ...r.functionCall };
      this.#send(c, { type: 'response.output_item.added', ...base, output_index: output.length, item: { ...item, arguments: '', status: 'in_progress' } });
      this.#send(c, { type: 'response.function_call_arguments.delta', ...base, item_id: itemId, output_index: output.length, call_id: callId, delta: r.functionCall.arguments });
      this.#send(c, { type: 'response.function_call_arguments.done', ...base, item_id: itemId, output_index: output.length, call_id: callId, ...r.functionCall });
      this.#send(c, { type: 'response.output_item.done', ...base, output_index: output.length, item });
      output.push(item);
    }
    c.response = undefined;
    this.#send(c, { type: 'response.done', response: { id: response.id, object: 'realtime.response', status: 'completed', output } });
  }

  #cancel(c: Conn, reason: string): void {
    const r = c.response;
    if (!r) return;
    r.cancelled = true;
    c.response = undefined;
    this.#send(c, { type: 'response.done', response: { id: r.id, object: 'realtime.response', status: 'cancelled', status_details: { type: 'cancelled', reason }, output: [] } });
  }

  #turnDetection(c: Conn): { create_response?: boolean; interrupt_response?: boolean } | null {
    const audio = c.session.audio as { input?: { turn_detection?: unknown } } | undefined;
    const td = audio?.input?.turn_detection;
    return td === undefined ? { create_response: true, interrupt_response: true } : (td as { create_response?: boolean } | null);
  }

  #error(c: Conn, type: string, code: string, message: string, cause?: Received['event']): void {
    this.#send(c, { type: 'error', error: { type, code, message, param: null, event_id: cause?.event_id ?? null } });
  }

  #send(c: Conn, event: Record<string, unknown> & { type: string }): void {
    if (c.ws.readyState !== c.ws.OPEN) return;
    c.ws.send(JSON.stringify({ event_id: this.#id('event'), ...event }));
    const logged = event.type === 'response.output_audio.delta' ? { ...event, delta: Buffer.byteLength(String(event.delta), 'base64') } : event;
    this.sent.push({ conn: c.index, event: logged });
  }

  /** Server events of `type` sent, in order. */
  sentOf(type: string): Array<Record<string, unknown>> {
    return this.sent.filter((r) => r.event.type === type).map((r) => r.event);
  }

  #id(prefix: string): string {
    return `${prefix}_${++this.#ids}`;
  }

  #last(): Conn | undefined {
    return this.#conns.at(-1);
  }

  #need(): Conn {
    const c = this.#last();
    if (!c) throw new Error('fake OpenAI: no connection yet');
    return c;
  }
}

/** `ms` of a 440 Hz tone at 24 kHz as base64 PCM16 little-endian, continuing from `fromMs`. */
function tone(ms: number, fromMs: number): string {
  const n = Math.round((RATE * ms) / 1000);
  const start = Math.round((RATE * fromMs) / 1000);
  const buf = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * (start + i)) / RATE)), i * 2);
  return buf.toString('base64');
}
