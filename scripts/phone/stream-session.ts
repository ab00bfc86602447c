import WebSocket from 'ws';
import { FrameClock } from './frame-clock.ts';
import { encodePcm, frameSamples } from './pcm.ts';
import { PlaybackBuffer, TICK_MS } from './playback-buffer.ts';
import type { MarkupOutcome } from './markup-loop.ts';
import type { ProviderAdapter, StreamProtocol, StreamTarget } from './providers/types.ts';
import type { CallResult, ReceivedFrame } from './call-types.ts';

/**
 * The connected part of a call, in real time, for any provider: the caller's audio sent as one
 * 20 ms frame per tick on a drift-free clock, DTMF at its times, server audio played through a
 * playback buffer (marks answered once played; `clear` per the provider), and the hang-up.
 *
 * Stream time 0 is when the opening messages are sent. Frame k (1-based) carries the caller's
 * [(k-1)*20, k*20) ms and is sent at k*20 ms with timestamp (k-1)*20; the tick at k*20 ms also
 * plays the next 20 ms slot of the buffer, so `heard` holds at [k*20, k*20+20) what that tick
 * played ([0, 20) is silence). A mark is answered when the slot holding the last sample before it
 * has finished playing (the next tick): never early, at most 20 ms late.
 *
 * When the server closes the stream without the call ending and the markup gave an action URL,
 * the call goes on: the action is requested and its markup runs (a new stream on the same call
 * clock, holds, or a hang-up); the gap sends nothing and plays nothing.
 */
export interface SessionSetup {
  adapter: ProviderAdapter;
  target: StreamTarget;
  ws: WebSocket;
  /** The caller's timeline at the stream's inbound rate. */
  input: Int16Array;
  hangupAtMs: number;
  dtmf: Array<{ atMs: number; digit: string }>;
  dropStreamAtMs: number[];
  log: (l: string) => void;
  signal?: AbortSignal;
  follow: (action: { url: string; method: 'GET' | 'POST' }) => Promise<MarkupOutcome>;
  open: (target: StreamTarget) => Promise<WebSocket>;
}

export type SessionResult = Pick<
  CallResult,
  'startedAt' | 'heard' | 'heardSampleRate' | 'received' | 'clears' | 'marksEchoed' | 'marksReceived' | 'sentFrames' | 'sendLatenessMs' | 'closedBy' | 'closeCode' | 'closeReason' | 'protocolErrors' | 'streams' | 'reconnects' | 'streamSid'
> & { failure?: Error };

/** How long to wait for the server's close frame after ours before dropping the TCP connection. */
const CLOSE_TIMEOUT_MS = 3000;
/** Media frames arriving closer than this to the previous one are merged into one `received` entry. */
const MEDIA_BURST_GAP_MS = 100;

export async function runStream(s: SessionSetup): Promise<SessionResult> {
  const { adapter, log } = s;
  let target = s.target;
  let ws = s.ws;
  let proto: StreamProtocol = adapter.stream(target);
  const firstStreamId = proto.streamId;
  const inSamples = frameSamples(target.inbound);
  const outRate = target.outbound.rate;
  const buffer = new PlaybackBuffer(outRate);
  const silence = () => new Int16Array(buffer.tickSamples);
  const heard: Int16Array[] = [silence()]; // [0, 20 ms): before the first tick
  const received: ReceivedFrame[] = [];
  const clears: number[] = [];
  const protocolErrors: string[] = [];
  const dtmf = [...s.dtmf].sort((a, b) => a.atMs - b.atMs);
  const drops = [...s.dropStreamAtMs].sort((a, b) => a - b);
  let serverEndAtMs = target.endsAfterS === undefined ? Infinity : target.endsAfterS * 1000;
  let lastMediaAt = -Infinity;
  let marksEchoed = 0;
  let marksReceived = 0;
  let sentFrames = 0;
  let reachedMarks: string[] = []; // reached by the slot now playing: answered when it ends
  let slotPlaying = false;
  let stopped = false;
  let failure: Error | undefined;
  let closeTimer: NodeJS.Timeout | undefined;
  let startedAt = 0;
  let streamT0 = 0;
  let reconnecting = false;
  let streams = 1;
  let closedBy: CallResult['closedBy'] = 'caller';
  let closeCode: number | undefined;
  let closeReason: string | undefined;
  const reconnects: CallResult['reconnects'] = [];
  let endCall: () => void = () => {};
  const closed = new Promise<void>((resolve) => (endCall = resolve));

  const streamTime = () => performance.now() - startedAt;
  const answerMarks = (names: readonly string[]) => {
    if (reconnecting || ws.readyState !== WebSocket.OPEN) return;
    for (const name of names) {
      ws.send(proto.markReached(name));
      marksEchoed++;
    }
  };

  const hangUp = (why: string, by: CallResult['closedBy'] = 'caller') => {
    if (stopped) return;
    stopped = true;
    closedBy = by;
    clock.stop();
    if (reconnecting || ws.readyState !== WebSocket.OPEN) {
      log(`hanging up at ${streamTime().toFixed(0)} ms (${why}) while no stream is open`);
      endCall();
      return;
    }
    const stop = proto.stop();
    log(`hanging up at ${streamTime().toFixed(0)} ms (${why}): ${stop ? 'stop, ' : ''}close 1000`);
    if (stop) ws.send(stop);
    ws.close(1000);
    closeTimer = setTimeout(() => ws.terminate(), CLOSE_TIMEOUT_MS); // no close frame back: drop it
  };

  const clock = new FrameClock(TICK_MS, (k, tMs) => {
    if (stopped) return;
    if (reconnecting || ws.readyState !== WebSocket.OPEN) {
      if (tMs >= s.hangupAtMs) return hangUp('hang-up time');
      heard.push(silence());
      return;
    }
    if (drops.length > 0 && drops[0]! <= tMs) {
      drops.shift();
      log(`dropping the stream's connection at ${tMs} ms`);
      ws.terminate(); // 'close' (1006) follows: handled as any close without the call ending
      heard.push(silence());
      return;
    }
    try {
      answerMarks(reachedMarks);
      reachedMarks = [];
      while (dtmf.length > 0 && dtmf[0]!.atMs <= tMs && dtmf[0]!.atMs < s.hangupAtMs) {
        const d = dtmf.shift()!;
        ws.send(proto.dtmf(d.digit));
        log(`dtmf ${d.digit} at ${tMs} ms`);
      }
      if (tMs - TICK_MS < s.hangupAtMs && tMs - TICK_MS < serverEndAtMs) {
        const from = (k - 1) * inSamples;
        const chunk = new Int16Array(inSamples); // silence past the end of the caller's audio
        if (from < s.input.length) chunk.set(s.input.subarray(from, Math.min(s.input.length, from + inSamples)));
        ws.send(proto.media(encodePcm(chunk, target.inbound), Math.max(0, tMs - TICK_MS - streamT0)));
        sentFrames++;
      }
      if (tMs >= s.hangupAtMs) return hangUp('hang-up time');
      if (tMs >= serverEndAtMs) return hangUp('the markup ran out of verbs', 'server');
      const slot = buffer.tick();
      heard.push(slot.pcm);
      reachedMarks = slot.marks;
      slotPlaying = slot.playedSamples > 0;
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
      hangUp(`error: ${failure.message}`);
    }
  });

  const onMessage = (data: WebSocket.RawData, isBinary: boolean) => {
    if (stopped || reconnecting) return;
    const atMs = streamTime();
    let msg;
    try {
      msg = proto.parse(data.toString(), isBinary);
    } catch (err) {
      protocolErrors.push(`${atMs.toFixed(0)} ms: ${(err as Error).message}`);
      log(`protocol error: ${(err as Error).message}`);
      return;
    }
    if (msg.event === 'media') {
      buffer.appendPcm(msg.pcm);
      const last = received[received.length - 1];
      if (last?.event === 'media' && atMs - lastMediaAt <= MEDIA_BURST_GAP_MS) {
        last.bytes = (last.bytes ?? 0) + msg.pcm.length;
        last.frames = (last.frames ?? 0) + 1;
      } else {
        received.push({ atMs, event: 'media', bytes: msg.pcm.length, frames: 1 });
      }
      lastMediaAt = atMs;
    } else if (msg.event === 'mark') {
      marksReceived++;
      received.push({ atMs, event: 'mark', name: msg.name });
      if (buffer.mark(msg.name)) {
        if (slotPlaying) reachedMarks.push(msg.name);
        else answerMarks([msg.name]);
      }
    } else {
      received.push({ atMs, event: 'clear' });
      clears.push(atMs);
      const dropped = buffer.clear();
      answerMarks(reachedMarks); // the slot that reached them did play
      reachedMarks = [];
      if (proto.clearAnswersMarks) answerMarks(dropped);
      const ack = proto.cleared();
      if (ack) ws.send(ack);
      log(`clear at ${atMs.toFixed(0)} ms: ${dropped.length} outstanding marks ${proto.clearAnswersMarks ? 'answered' : 'dropped'}`);
    }
  };

  const followAction = async (action: { url: string; method: 'GET' | 'POST' }) => {
    try {
      const next = await s.follow(action);
      if (stopped) return;
      if ('hangup' in next) {
        log(`action ${action.url} hung up${next.hangup.say ? `: "${next.hangup.say}"` : ''}`);
        closedBy = 'server';
        stopped = true;
        clock.stop();
        endCall();
        return;
      }
      const nextWs = await s.open(next.connect);
      if (stopped) {
        nextWs.close(1000);
        return;
      }
      target = next.connect;
      proto = adapter.stream(target);
      attach(nextWs);
      for (const m of proto.opening()) ws.send(m);
      streamT0 = streamTime();
      if (target.endsAfterS !== undefined) serverEndAtMs = streamT0 + target.endsAfterS * 1000;
      streams++;
      reconnecting = false;
      const last = reconnects[reconnects.length - 1];
      if (last) last.resumedAtMs = streamT0;
      log(`stream ${proto.streamId} started at ${streamT0.toFixed(0)} ms (the call goes on)`);
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
      log(`following the stream's action failed: ${failure.message}`);
      closedBy = 'server';
      stopped = true;
      clock.stop();
      endCall();
    }
  };

  const attach = (socket: WebSocket) => {
    ws = socket;
    socket.on('close', (code, reason) => {
      if (socket !== ws) return;
      clearTimeout(closeTimer);
      closeCode = code;
      closeReason = reason.toString();
      if (!stopped && target.action) {
        log(`stream closed by the server at ${streamTime().toFixed(0)} ms (${code} ${closeReason}): following its action`);
        reconnecting = true;
        buffer.clear(); // buffered audio goes with the stream; its marks are never answered
        reachedMarks = [];
        slotPlaying = false;
        reconnects.push({ lostAtMs: streamTime(), resumedAtMs: NaN, closeCode: code });
        void followAction(target.action);
        return;
      }
      if (!stopped) {
        closedBy = 'server';
        stopped = true;
        clock.stop();
        log(`server closed the stream at ${streamTime().toFixed(0)} ms: ${code} ${closeReason}`);
      }
      endCall();
    });
    socket.on('message', onMessage);
    socket.on('error', (err) => log(`media stream error: ${err.message}`));
  };
  attach(ws);
  const onAbort = () => hangUp('aborted');
  s.signal?.addEventListener('abort', onAbort, { once: true });

  for (const m of proto.opening()) ws.send(m);
  startedAt = performance.now();
  log(`stream ${firstStreamId} started (call ${adapter.callSid})`);
  clock.start(startedAt);
  if (s.signal?.aborted) hangUp('aborted');

  await closed;
  s.signal?.removeEventListener('abort', onAbort);
  return {
    streamSid: firstStreamId, startedAt, heard: concat(heard), heardSampleRate: outRate, received, clears, marksEchoed, marksReceived,
    sentFrames, sendLatenessMs: clock.lateness(), closedBy, closeCode, closeReason, protocolErrors, streams, reconnects, failure,
  };
}

export function concat(parts: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
