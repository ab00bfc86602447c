import { StreamClient } from '../../client/src/stream-client.ts';

export interface StreamCallResult {
  client: StreamClient;
  sessionId: string;
  /** What was heard, placed on the stream's timeline (time 0: `started`), at the output rate. */
  heard: Int16Array;
  rate: number;
  /** Events received, at stream times. */
  events: Array<{ atMs: number; type: string; event: Record<string, unknown> }>;
  /** Stream times at which `clear` arrived. */
  clears: number[];
  close: { code: number; reason: string };
}

/**
 * One stream client's call through the edge (`GET /v1/stream`, the client of `client/`): waits
 * for `started`, then sends `audio` (PCM16 at `rate`) in 20 ms frames on a drift-free real-time
 * clock from stream time 0, stays `tailMs`, and hangs up (unless `hangup` is false).
 */
export async function streamCall(o: { edge: string; audio: Int16Array; rate: 8000 | 16000 | 24000 | 48000; tailMs: number; hangup?: boolean; onStarted?: (sessionId: string) => void }): Promise<StreamCallResult> {
  const url = `${o.edge.replace(/^http/, 'ws')}/v1/stream`;
  const client = await StreamClient.connect(url, { format: { encoding: 'pcm16', sampleRate: o.rate } });
  const clears: number[] = [];
  client.on('clear', (c) => clears.push(c.atMs));
  await client.started;
  const t0 = client.now();
  o.onStarted?.(client.sessionId);
  const frame = (o.rate * 20) / 1000;
  const startedAt = performance.now();
  for (let k = 0; k * frame < o.audio.length && client.isOpen; k++) {
    const due = startedAt + (k + 1) * 20;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    client.sendAudio(o.audio.subarray(k * frame, (k + 1) * frame));
  }
  await Promise.race([new Promise((r) => setTimeout(r, o.tailMs)), client.closed]);
  if (o.hangup !== false) client.close(1000, 'caller hung up');
  const close = await client.closed;
  const rate = client.heardLog.sampleRate;
  const last = client.heard.at(-1);
  const endMs = last ? last.atMs - t0 + (last.samples.length / rate) * 1000 : 0;
  const heard = new Int16Array(Math.ceil((Math.max(endMs, 0) * rate) / 1000) + 1);
  for (const s of client.heard) {
    const at = Math.round(((s.atMs - t0) * rate) / 1000);
    if (at >= 0) heard.set(s.samples.subarray(0, Math.max(0, heard.length - at)), at);
  }
  return {
    client,
    sessionId: client.sessionId,
    heard,
    rate,
    events: client.events.map((e) => ({ atMs: e.atMs - t0, type: String(e.event.type), event: e.event as Record<string, unknown> })),
    clears: clears.map((c) => c - t0),
    close: { code: close.code, reason: close.reason },
  };
}
