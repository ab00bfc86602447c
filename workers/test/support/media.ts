import { SELF } from 'cloudflare:test';
import { Inbox } from './inbox.ts';

/** One WebSocket message as received: text, or binary (workerd delivers an ArrayBuffer). */
export type Frame = string | ArrayBuffer;

/**
 * The test's end of a WebSocket the edge answered (a provider's media stream, a stream client, a
 * worker's media socket): every message in order, and how it closed. A refused upgrade keeps its
 * status and body instead.
 */
export interface Socket {
  status: number;
  /** The refusal's body (empty for a 101). */
  body: string;
  ws: WebSocket | null;
  inbox: Inbox<Frame>;
  closed: Promise<{ code: number; reason: string }>;
  /** Whether the close has been seen (without waiting for it). */
  isClosed(): boolean;
  send(data: string | ArrayBuffer | ArrayBufferView): void;
}

/** Accepts the WebSocket of an upgrade's response (if it is one) and records what it receives. */
export async function socketOf(res: Response): Promise<Socket> {
  const inbox = new Inbox<Frame>();
  const ws = res.webSocket;
  let closedNow = false;
  let onClose: (v: { code: number; reason: string }) => void = () => {};
  const closed = new Promise<{ code: number; reason: string }>((r) => (onClose = r));
  if (ws) {
    // Binary messages as ArrayBuffer (this compatibility date's default is Blob, as in browsers).
    ws.binaryType = 'arraybuffer';
    ws.accept();
    ws.addEventListener('message', (e) => inbox.push(typeof e.data === 'string' ? e.data : (e.data as ArrayBuffer)));
    ws.addEventListener('close', (e) => {
      closedNow = true;
      onClose({ code: e.code, reason: e.reason });
    });
  }
  return {
    status: res.status,
    body: ws ? '' : await res.text(),
    ws,
    inbox,
    closed,
    isClosed: () => closedNow,
    send: (data) => ws?.send(data),
  };
}

/**
 * Opens a stream URL the call markup gave (`ws://127.0.0.1:8787/<provider>/media/...`) at the edge
 * under test, as a provider without upgrade signatures (Telnyx, Plivo) does.
 */
export async function openStreamUrl(streamUrl: string): Promise<Socket> {
  const path = new URL(streamUrl).pathname;
  return socketOf(await SELF.fetch(`http://edge.test${path}`, { headers: { Upgrade: 'websocket' } }));
}

/** The next message, which must be text. */
export async function nextText(s: Socket, timeoutMs?: number): Promise<string> {
  const m = await s.inbox.next(timeoutMs);
  if (typeof m !== 'string') throw new Error(`expected a text message, got ${m.byteLength} binary bytes`);
  return m;
}

/** The next message, which must be binary, as bytes. */
export async function nextBinary(s: Socket, timeoutMs?: number): Promise<Uint8Array> {
  const m = await s.inbox.next(timeoutMs);
  if (typeof m === 'string') throw new Error(`expected a binary message, got text ${m.slice(0, 80)}`);
  return new Uint8Array(m);
}

/** Asserts nothing arrives for `ms` (a frame that must not be relayed). */
export async function expectSilence(s: Socket, ms = 300): Promise<void> {
  const got = await s.inbox.next(ms).then(
    (m) => m,
    () => null,
  );
  if (got !== null) throw new Error(`expected no message, got ${typeof got === 'string' ? got.slice(0, 120) : `${got.byteLength} binary bytes`}`);
}

/** A session's status as the edge reports it (AUTH_MODE=none: every field). */
export async function sessionStatus(id: string): Promise<{ id: string; kind: string; state: string; reason?: string; detail?: string; workerId?: string }> {
  const res = await SELF.fetch(`http://edge.test/v1/sessions/${id}/status`);
  if (res.status !== 200) throw new Error(`status of ${id}: ${res.status} ${await res.text()}`);
  return res.json();
}

/**
 * The session id of a Telnyx (`tx`) or Plivo (`pv`) call, computed here from its documented shape
 * (`c_<tx|pv>_` + the first 16 bytes of SHA-256 of the provider's call id, in hex) rather than by
 * the edge's own function, so a change of scheme shows.
 */
export async function hashedSessionId(prefix: 'tx' | 'pv', callId: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(callId)));
  return `c_${prefix}_${Array.from(digest.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** Unescapes the XML attribute and text escapes the call markup uses. */
export function unescapeXml(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Random bytes as hex (ids for provider calls). */
export function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
}
