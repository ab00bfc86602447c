/**
 * runSession against a stand-in for the edge's control endpoint (a real `ws` server) and real
 * werift client peers: end reasons and their `end` messages, state restored from the handover,
 * a resume moving the call on the live worker, and the drain limit handing a phone call over.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ControlToEdge, ControlToWorker, SessionJob } from '@switchboard/protocol';
import { connected, loopbackPeer } from '../../../test/support/loopback-peer.ts';
import { loadWorkerConfig } from '../config.ts';
import { replyOnPause } from '../handlers/reply-on-pause.ts';
import { stream } from '../handlers/stream.ts';
import type { Handler } from '../handlers/types.ts';
import { createMetrics } from '../http/metrics.ts';
import { dialControl } from '../jobs/control-channel.ts';
import type { VadFactory } from '../pipeline/session-pipeline.ts';
import { createVadFactory } from '../vad/factory.ts';
import { HANDOFF_CLOSE_CODE, runSession } from './run-session.ts';

const ID = `s_${'2'.repeat(32)}`;
const CLAIM = 'claim-token-0123456789';
const RESUME = 'resume-token-0123456789';

interface Edge {
  url: string;
  /** What the worker sent, parsed. */
  got: ControlToEdge[];
  closedWith: number | undefined;
  send(msg: ControlToWorker): void;
  close(): Promise<void>;
}

/** The edge's control endpoint: accepts the claim, hands `session` over, records what comes back. */
async function fakeEdge(session: Partial<Extract<ControlToWorker, { type: 'session' }>>): Promise<Edge> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  let socket: WebSocket | undefined;
  const edge: Edge = {
    url: `http://127.0.0.1:${(wss.address() as { port: number }).port}`,
    got: [],
    closedWith: undefined,
    send: (m) => socket?.send(JSON.stringify(m)),
    close: () => new Promise((r) => wss.close(() => r())),
  };
  wss.on('connection', (ws, req) => {
    // A phone session's worker also dials its media socket (socket-transport.ts): held, unused here.
    if (req.url?.endsWith('/media')) return;
    socket = ws;
    ws.on('message', (d) => edge.got.push(JSON.parse(d.toString()) as ControlToEdge));
    ws.on('close', (code) => (edge.closedWith = code));
    const msg: ControlToWorker = { type: 'session', sessionId: ID, kind: 'webrtc', iceServers: [], iceServersExpiresAt: null, endsAt: null, resumeToken: RESUME, ...session };
    ws.send(JSON.stringify(msg));
  });
  return edge;
}

let vad: VadFactory;
beforeAll(async () => {
  vad = await createVadFactory();
});

const config = loadWorkerConfig({ SQS_QUEUE_URL: 'http://127.0.0.1:1/q', RTC_INTERFACE: '127.0.0.1', RTC_ALLOW_PEER_ADDRESSES: 'loopback' });
const job: SessionJob = { v: 1, sessionId: ID, kind: 'webrtc', createdAt: 0, expiresAt: Date.now() + 600_000, controlToken: CLAIM };
const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

async function start(edge: Edge, handler: Handler) {
  open.push(edge);
  const outcome = await dialControl(edge.url, job, 'w-test');
  if (outcome.kind !== 'claimed') throw new Error(`claim failed: ${JSON.stringify(outcome)}`);
  const metrics = createMetrics();
  const logs: string[] = [];
  const run = runSession(job, outcome.channel, { config: { ...config, PUBLIC_BASE_URL: edge.url }, handler, vad, metrics, log: (m) => logs.push(m), workerId: 'w-test' });
  open.push({ close: () => (run.end('handler_closed'), run.done) });
  return { run, metrics, logs };
}

/** A client peer's offer (Opus and the events channel), and the peer to take the answer. */
async function offer() {
  const pc = loopbackPeer();
  open.push(pc);
  pc.addTransceiver('audio', { direction: 'sendrecv' });
  const events: string[] = [];
  const channel = pc.createDataChannel('events');
  channel.onMessage.subscribe((m) => events.push(m.toString()));
  await pc.setLocalDescription(await pc.createOffer());
  return { pc, channel, events, sdp: pc.localDescription!.sdp };
}

const ended = (edge: Edge) => edge.got.filter((m) => m.type === 'end');
const label = async (metrics: ReturnType<typeof createMetrics>, reason: string) =>
  (await metrics.sessionsEnded.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;

/** Answers `{type: 'state?'}` with the handler's ctx.state and whether the call is a takeover. */
const stateReporter: Handler = stream(async function* (input) {
  for await (const _ of input) {
    // audio is not the point here
  }
}, {
  onEvent: (event, ctx) => {
    if (event.type === 'state?') ctx.send({ type: 'state', state: ctx.state, takeover: ctx.session.takeover === true });
    if (event.type === 'count') ctx.state.n = Number(ctx.state.n ?? 0) + 1;
  },
});

describe('runSession', { timeout: 20_000 }, () => {
  it('a WebRTC session without an offer ends as bad_handover, its end says so, the metric counts the enum value', async () => {
    const edge = await fakeEdge({});
    const { run, metrics } = await start(edge, stateReporter);
    await run.done;
    expect(ended(edge)).toEqual([{ type: 'end', reason: 'bad_handover', detail: 'a WebRTC session without an offer' }]);
    expect(await label(metrics, 'bad_handover')).toBe(1);
    expect(edge.closedWith).toBe(1000);
  });

  it('restores ctx.state from the handover; a resume offer moves the call to a new peer connection with the same state, as a takeover', async () => {
    const first = await offer();
    const edge = await fakeEdge({ offer: first.sdp, state: '{"n":41}' });
    const { run, metrics } = await start(edge, stateReporter);
    await expect.poll(() => edge.got.some((m) => m.type === 'answer'), { timeout: 8000 }).toBe(true);
    const answer1 = edge.got.find((m) => m.type === 'answer') as { sdp: string };
    await first.pc.setRemoteDescription({ type: 'answer', sdp: answer1.sdp });
    await connected(first.pc);
    await expect.poll(() => first.channel.readyState).toBe('open');
    first.channel.send(JSON.stringify({ type: 'count' }));
    first.channel.send(JSON.stringify({ type: 'state?' }));
    await expect.poll(() => first.events.length, { timeout: 3000 }).toBe(1);
    expect(JSON.parse(first.events[0]!)).toEqual({ type: 'state', state: { n: 42 }, takeover: false });

    const second = await offer();
    edge.send({ type: 'offer', offer: second.sdp });
    await expect.poll(() => edge.got.filter((m) => m.type === 'answer').length, { timeout: 8000 }).toBe(2);
    const answer2 = edge.got.filter((m) => m.type === 'answer')[1] as { sdp: string };
    await second.pc.setRemoteDescription({ type: 'answer', sdp: answer2.sdp });
    await connected(second.pc);
    await expect.poll(() => second.channel.readyState).toBe('open');
    second.channel.send(JSON.stringify({ type: 'state?' }));
    await expect.poll(() => second.events.length, { timeout: 3000 }).toBe(1);
    expect(JSON.parse(second.events[0]!)).toEqual({ type: 'state', state: { n: 42 }, takeover: true });
    // The old connection was closed by the worker; the session was not ended by it.
    await expect.poll(() => first.channel.readyState, { timeout: 3000 }).toBe('closed');
    expect(ended(edge)).toEqual([]);

    run.drainTimeout();
    await run.done;
    expect(ended(edge)).toEqual([{ type: 'end', reason: 'drain_timeout' }]);
    expect(await label(metrics, 'drain_timeout')).toBe(1);
  });

  it('the drain limit hands a phone call over: its state checkpointed, the control channel closed without end', async () => {
    const edge = await fakeEdge({ kind: 'phone', call: { provider: 'twilio', callSid: 'CA1', from: '+15550000001', to: '+15550000002', direction: 'inbound' } });
    const handler = replyOnPause(async function* () {}, {
      greeting: async function* (ctx) {
        ctx.state.greeted = true;
      },
    });
    const { run, metrics } = await start(edge, handler);
    await expect.poll(() => edge.got.some((m) => m.type === 'checkpoint'), { timeout: 5000 }).toBe(true);
    expect(edge.got.filter((m) => m.type === 'checkpoint')).toEqual([{ type: 'checkpoint', state: '{"greeted":true}' }]);
    run.drainTimeout();
    await run.done;
    await expect.poll(() => edge.closedWith).toBe(HANDOFF_CLOSE_CODE);
    expect(ended(edge)).toEqual([]);
    expect((await metrics.sessionsEnded.get()).values.filter((v) => v.value > 0)).toEqual([]);
  });

  it('an edge hangup ends the session under a worker reason', async () => {
    const edge = await fakeEdge({ kind: 'phone', call: { provider: 'twilio', callSid: 'CA2', from: '+15550000001', to: '+15550000002', direction: 'inbound' } });
    const { run, metrics } = await start(edge, replyOnPause(async function* () {}));
    await new Promise((r) => setTimeout(r, 100));
    edge.send({ type: 'hangup', reason: 'client_hangup' });
    await run.done;
    expect(await label(metrics, 'client_hangup')).toBe(1);
  });
});
