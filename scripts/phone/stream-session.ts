import WebSocket from 'ws';
import { FrameClock } from './frame-clock.ts';
import { concatPcm, encodePcm, frameSamples } from './pcm.ts';
import { ReceivedLog } from './received-log.ts';
import { PlaybackBuffer, TICK_MS } from './playback-buffer.ts';
import type { ApiCommand, CallControl } from './call-control.ts';
import type { MarkupOutcome } from './markup-loop.ts';
import type { ProviderAdapter, StreamProtocol, StreamTarget } from './providers/types.ts';
import type { CallResult } from './call-types.ts';

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
 * clock, holds, or a hang-up); the gap sends nothing and plays nothing. `control` brings the
 * provider's own changes (REST API): a hang-up ends the call (stop, close); a redirect ends the
 * stream the same way and its URL's markup runs as an action's would.
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
  follow: (action: { url: string; method: 'GET' | 'POST' }, signal: AbortSignal) => Promise<MarkupOutcome>;
  open: (target: StreamTarget) => Promise<WebSocket>;
  control?: CallControl;
}

export type SessionResult = Pick<
  CallResult,
  'startedAt' | 'heard' | 'heardSampleRate' | 'received' | 'clears' | 'marksEchoed' | 'marksReceived' | 'sentFrames' | 'sendLatenessMs' | 'closedBy' | 'closeCode' | 'closeReason' | 'protocolErrors' | 'streams' | 'reconnects' | 'streamSid' | 'hungUpBy' | 'redirects'
> & { failure?: Error };

/** How long to wait for the server's close frame after ours before dropping the TCP connection. */
const CLOSE_TIMEOUT_MS = 3000;

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
  const frames = new ReceivedLog();
  const { received, clears, protocolErrors } = frames;
  const dtmf = [...s.dtmf].sort((a, b) => a.atMs - b.atMs);
  const drops = [...s.dropStreamAtMs].sort((a, b) => a - b);
  let serverEndAtMs = target.endsAfterS === undefined ? Infinity : target.endsAfterS * 1000;
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
  const redirects: CallResult['redirects'] = [];
  let hungUpBy: CallResult['hungUpBy'];
  let followGen = 0; // a newer follow (a redirect) supersedes an older one
  let followAbort: AbortController | undefined;
  const retired = new WeakSet<WebSocket>(); // streams the provider itself ended (redirect)
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
    followAbort?.abort(new Error('the call was hung up'));
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
      frames.error(atMs, (err as Error).message);
      log(`protocol error: ${(err as Error).message}`);
      return;
    }
    if (msg.event === 'media') {
      buffer.appendPcm(msg.pcm);
      frames.media(atMs, msg.pcm.length);
    } else if (msg.event === 'mark') {
      marksReceived++;
      frames.mark(atMs, msg.name);
      if (buffer.mark(msg.name)) {
        if (slotPlaying) reachedMarks.push(msg.name);
        else answerMarks([msg.name]);
      }
    } else {
      frames.clear(atMs);
      const dropped = buffer.clear();
      answerMarks(reachedMarks); // the slot that reached them did play
      reachedMarks = [];
      if (proto.clearAnswersMarks) answerMarks(dropped);
      const ack = proto.cleared();
      if (ack) ws.send(ack);
      log(`clear at ${atMs.toFixed(0)} ms: ${dropped.length} outstanding marks ${proto.clearAnswersMarks ? 'answered' : 'dropped'}`);
    }
  };

  /** Requests `action` and runs its markup; `gap` gets the new stream's start time. */
  const followAction = async (action: { url: string; method: 'GET' | 'POST' }, gap: { resumedAtMs: number }) => {
    const gen = ++followGen;
    followAbort?.abort(new Error('superseded'));
    const abort = (followAbort = new AbortController());
    const stale = () => stopped || gen !== followGen;
    try {
      const next = await s.follow(action, abort.signal);
      if (stale()) return;
      if ('hangup' in next) {
        log(`action ${action.url} hung up${next.hangup.say ? `: "${next.hangup.say}"` : ''}`);
        closedBy = 'server';
        stopped = true;
        clock.stop();
        endCall();
        return;
      }
      const nextWs = await s.open(next.connect);
      if (stale()) {
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
      gap.resumedAtMs = streamT0;
      log(`stream ${proto.streamId} started at ${streamT0.toFixed(0)} ms (the call goes on)`);
    } catch (err) {
      if (stale()) return;
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
      if (socket !== ws || retired.has(socket)) return;
      clearTimeout(closeTimer);
      closeCode = code;
      closeReason = reason.toString();
      if (!stopped && target.action) {
        log(`stream closed by the server at ${streamTime().toFixed(0)} ms (${code} ${closeReason}): following its action`);
        reconnecting = true;
        buffer.clear(); // buffered audio goes with the stream; its marks are never answered
        reachedMarks = [];
        slotPlaying = false;
        const gap = { lostAtMs: streamTime(), resumedAtMs: NaN, closeCode: code };
        reconnects.push(gap);
        void followAction(target.action, gap);
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

  /** The provider ends the current stream itself (stop, close) and the call waits for new markup. */
  const leaveStream = (why: string) => {
    const old = ws;
    retired.add(old);
    if (!reconnecting && old.readyState === WebSocket.OPEN) {
      const stop = proto.stop();
      log(`${why} at ${streamTime().toFixed(0)} ms: ${stop ? 'stop, ' : ''}close 1000`);
      if (stop) old.send(stop);
      old.close(1000);
      setTimeout(() => old.terminate(), CLOSE_TIMEOUT_MS).unref();
    }
    reconnecting = true;
    buffer.clear(); // buffered audio goes with the stream; its marks are never answered
    reachedMarks = [];
    slotPlaying = false;
  };
  const onCommand = (c: ApiCommand) => {
    if (stopped) return;
    if (c.kind === 'hangup') {
      hungUpBy = 'api';
      return hangUp('hung up through the provider API', 'provider');
    }
    const gap = { atMs: streamTime(), url: c.url, resumedAtMs: NaN };
    redirects.push(gap);
    leaveStream(`redirected through the provider API to ${c.url}`);
    void followAction(c, gap);
  };
  const onAbort = () => hangUp('aborted');
  s.signal?.addEventListener('abort', onAbort, { once: true });

  for (const m of proto.opening()) ws.send(m);
  startedAt = performance.now();
  log(`stream ${firstStreamId} started (call ${adapter.callSid})`);
  clock.start(startedAt);
  if (s.signal?.aborted) hangUp('aborted');
  s.control?.take(onCommand);

  await closed;
  s.signal?.removeEventListener('abort', onAbort);
  return {
    streamSid: firstStreamId, startedAt, heard: concatPcm(heard), heardSampleRate: outRate, received, clears, marksEchoed, marksReceived,
    sentFrames, sendLatenessMs: clock.lateness(), closedBy, closeCode, closeReason, protocolErrors, streams, reconnects, failure,
    redirects, ...(hungUpBy ? { hungUpBy } : {}),
  };
}
