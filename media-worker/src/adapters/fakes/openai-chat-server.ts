/**
 * A protocol-level fake of OpenAI's chat completions endpoint (`POST /v1/chat/completions` with
 * `stream: true`), for tests and benchmarks: a real node:http server on 127.0.0.1 answering with
 * Server-Sent Events as documented by OpenAI (written from the API reference, not from this
 * project's adapter): `data: {chat.completion.chunk}` lines whose choices[0].delta carries
 * `role`, `content` pieces or `tool_calls` pieces ({index, id, type, function: {name,
 * arguments}} first, then argument fragments), a last chunk with `finish_reason`, then
 * `data: [DONE]`. Errors are JSON `{error: {message, type, param, code}}` with the HTTP status.
 *
 * What it answers is scripted per request by `respond(request)`; latencies (to the first token,
 * per token), disconnects mid-stream and slow consumers (it honours the socket's backpressure)
 * are part of the script. Every request is recorded.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeChatReply {
  /** Text streamed as content deltas, cut into tokens (a word with its leading space each). */
  text?: string;
  /** Tool calls streamed after the text, their arguments in `argumentPieces` fragments. */
  toolCalls?: Array<{ id?: string; name: string; arguments: string }>;
  /** Fragments each tool call's arguments arrive in. Default 3. */
  argumentPieces?: number;
  /** An HTTP error instead of a stream, in OpenAI's error shape. */
  error?: { status: number; message: string; type?: string; code?: string | null };
  /** Delay before the first chunk (ms). Default 0. */
  firstTokenDelayMs?: number;
  /** Delay between chunks (ms). Default 0. */
  tokenDelayMs?: number;
  /** Drops the connection after this many content tokens (no finish_reason, no [DONE]). */
  disconnectAfterTokens?: number;
  /** Ends the response cleanly after this many tokens but without finish_reason or [DONE]. */
  endAfterTokens?: number;
  /** Lines written verbatim before the first chunk (e.g. malformed data). */
  rawPrefix?: string;
}

export interface FakeChatRequest {
  headers: IncomingMessage['headers'];
  body: {
    model?: string;
    messages?: Array<Record<string, unknown>>;
    tools?: Array<Record<string, unknown>>;
    stream?: boolean;
    temperature?: number;
    max_tokens?: number;
    max_completion_tokens?: number;
    [k: string]: unknown;
  };
  /** The client went away before the response was complete. */
  aborted: boolean;
  /** The response was written to its end. */
  completed: boolean;
}

export interface FakeOpenAiOptions {
  /** The only key accepted (Bearer). Default "test-key". */
  apiKey?: string;
  /** The answer to each request. Default: "Hello! How can I help you today?". */
  respond?: (request: FakeChatRequest, index: number) => FakeChatReply;
}

const MAX_BODY_BYTES = 4 << 20;

export class FakeOpenAiServer {
  /** http://127.0.0.1:<port>/v1 (the SDK's baseURL). */
  readonly baseURL: string;
  readonly requests: FakeChatRequest[] = [];
  respond: (request: FakeChatRequest, index: number) => FakeChatReply;
  readonly #http: Server;
  readonly #apiKey: string;

  private constructor(http: Server, options: FakeOpenAiOptions) {
    this.#http = http;
    this.#apiKey = options.apiKey ?? 'test-key';
    this.respond = options.respond ?? (() => ({ text: 'Hello! How can I help you today?' }));
    this.baseURL = `http://127.0.0.1:${(http.address() as AddressInfo).port}/v1`;
  }

  static async start(options: FakeOpenAiOptions = {}): Promise<FakeOpenAiServer> {
    const http = createServer();
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const server = new FakeOpenAiServer(http, options);
    http.on('request', (req, res) => {
      server.#handle(req, res).catch(() => res.destroy());
    });
    return server;
  }

  async close(): Promise<void> {
    this.#http.closeAllConnections();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      return sendError(res, { status: 404, message: `Unknown request URL: ${req.method} ${req.url}`, type: 'invalid_request_error', code: 'unknown_url' });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > MAX_BODY_BYTES) return sendError(res, { status: 413, message: 'Request too large', type: 'invalid_request_error' });
      chunks.push(c);
    }
    let body: FakeChatRequest['body'];
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as FakeChatRequest['body'];
    } catch {
      return sendError(res, { status: 400, message: 'We could not parse the JSON body of your request.', type: 'invalid_request_error' });
    }
    const request: FakeChatRequest = { headers: req.headers, body, aborted: false, completed: false };
    this.requests.push(request);
    res.on('close', () => {
      if (!res.writableFinished) request.aborted = true;
    });
    if (req.headers.authorization !== `Bearer ${this.#apiKey}`) {
      return sendError(res, { status: 401, message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' });
    }
    if (body.stream !== true) return sendError(res, { status: 400, message: 'this fake only streams', type: 'invalid_request_error' });
    const reply = this.respond(request, this.requests.length - 1);
    if (reply.error) return sendError(res, reply.error);
    await streamReply(res, body.model ?? 'gpt-fake', reply);
    request.completed = !request.aborted;
  }
}

function sendError(res: ServerResponse, e: NonNullable<FakeChatReply['error']>): void {
  const body = JSON.stringify({ error: { message: e.message, type: e.type ?? 'server_error', param: null, code: e.code ?? null } });
  res.writeHead(e.status, { 'content-type': 'application/json', 'x-request-id': `req_${crypto.randomUUID()}` }).end(body);
}

async function streamReply(res: ServerResponse, model: string, reply: FakeChatReply): Promise<void> {
  const id = `chatcmpl-${crypto.randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta: Record<string, unknown>, finish: string | null = null): string =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_fake', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.flushHeaders();
  const wait = (ms: number | undefined): Promise<void> | undefined => (ms && ms > 0 ? new Promise((r) => setTimeout(r, ms)) : undefined);
  // Honours backpressure: a slow consumer makes the server wait, as a real one's socket would.
  const write = async (s: string): Promise<boolean> => {
    if (res.destroyed) return false;
    if (!res.write(s)) {
      await new Promise<void>((r) => {
        const done = (): void => {
          res.off('drain', done).off('close', done);
          r();
        };
        res.on('drain', done).on('close', done);
      });
    }
    return !res.destroyed;
  };
  await wait(reply.firstTokenDelayMs);
  if (reply.rawPrefix !== undefined && !(await write(reply.rawPrefix))) return;
  if (!(await write(chunk({ role: 'assistant', content: '', refusal: null })))) return;
  const tokens = (reply.text ?? '').match(/\s*\S+/g) ?? [];
  let sent = 0;
  for (const token of tokens) {
    if (reply.disconnectAfterTokens !== undefined && sent >= reply.disconnectAfterTokens) return flushThenDrop(res);
    if (reply.endAfterTokens !== undefined && sent >= reply.endAfterTokens) return void res.end();
    await wait(reply.tokenDelayMs);
    if (!(await write(chunk({ content: token })))) return;
    sent++;
  }
  if (reply.disconnectAfterTokens !== undefined && sent >= reply.disconnectAfterTokens) return flushThenDrop(res);
  const calls = reply.toolCalls ?? [];
  const pieces = Math.max(1, reply.argumentPieces ?? 3);
  for (const [index, call] of calls.entries()) {
    const callId = call.id ?? `call_${crypto.randomUUID().replaceAll('-', '').slice(0, 24)}`;
    if (!(await write(chunk({ tool_calls: [{ index, id: callId, type: 'function', function: { name: call.name, arguments: '' } }] })))) return;
    const step = Math.ceil(call.arguments.length / pieces);
    for (let i = 0; i < call.arguments.length; i += step) {
      await wait(reply.tokenDelayMs);
      if (!(await write(chunk({ tool_calls: [{ index, function: { arguments: call.arguments.slice(i, i + step) } }] })))) return;
    }
  }
  if (!(await write(chunk({}, calls.length > 0 ? 'tool_calls' : 'stop')))) return;
  if (!(await write('data: [DONE]\n\n'))) return;
  res.end();
}

/** Drops the connection mid-response, after what was written reached the socket (destroy alone discards it). */
function flushThenDrop(res: ServerResponse): Promise<void> {
  return new Promise((resolve) =>
    res.write('', () => {
      res.socket?.destroy();
      resolve();
    }),
  );
}
