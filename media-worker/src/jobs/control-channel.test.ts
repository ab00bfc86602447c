import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ControlToWorker, SessionJob } from '@switchboard/protocol';
import { dialControl, type ControlChannel } from './control-channel.ts';

const ID = `s_${'1'.repeat(32)}`;
const CLAIM = 'claim-token-0123456789';
const RESUME = 'resume-token-0123456789';

interface FakeEdge {
  url: string;
  sockets: WebSocket[];
  /** Text frames each socket received, by connection. */
  received: string[][];
  /** Bearer tokens of every dial, in order. */
  dials: string[];
  refuseResume: boolean;
  close(): Promise<void>;
}

/** A stand-in for the edge's control endpoint: 101 for the claim and resume tokens. */
async function fakeEdge(): Promise<FakeEdge> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  const edge: FakeEdge = {
    url: `http://127.0.0.1:${(wss.address() as { port: number }).port}`,
    sockets: [],
    received: [],
    dials: [],
    refuseResume: false,
    close: () => new Promise((r) => wss.close(() => r())),
  };
  wss.options.verifyClient = (info, cb) => {
    const token = /^Bearer (\S+)$/.exec(info.req.headers.authorization ?? '')?.[1] ?? '';
    edge.dials.push(token);
    if (token === CLAIM) cb(true);
    else if (token === RESUME && !edge.refuseResume) cb(true);
    else cb(false, token === RESUME ? 410 : 401);
  };
  wss.on('connection', (ws) => {
    edge.sockets.push(ws);
    const got: string[] = [];
    edge.received.push(got);
    ws.on('message', (d) => got.push(d.toString()));
    if (edge.sockets.length === 1) {
      const session: ControlToWorker = { type: 'session', sessionId: ID, kind: 'webrtc', offer: 'v=0', iceServers: [], iceServersExpiresAt: null, endsAt: null, resumeToken: RESUME };
      ws.send(JSON.stringify(session));
    }
  });
  return edge;
}

const job: SessionJob = { v: 1, sessionId: ID, kind: 'webrtc', createdAt: 0, expiresAt: Date.now() + 60_000, controlToken: CLAIM };
let edge: FakeEdge;
let channel: ControlChannel | null = null;
afterEach(async () => {
  channel?.close();
  await edge.close();
});

async function claimed(): Promise<{ channel: ControlChannel; got: ControlToWorker[]; closed: { code: number }[] }> {
  const o = await dialControl(edge.url, job, 'w-1');
  if (o.kind !== 'claimed') throw new Error(`claim failed: ${JSON.stringify(o)}`);
  channel = o.channel;
  const got: ControlToWorker[] = [];
  const closed: { code: number }[] = [];
  o.channel.onMessage((m) => got.push(m));
  o.channel.onClose((code) => closed.push({ code }));
  await expect.poll(() => got.length).toBe(1);
  return { channel: o.channel, got, closed };
}

describe('the control channel', () => {
  it('dials back in with the resume token after an abrupt drop and delivers what was sent meanwhile', async () => {
    edge = await fakeEdge();
    const c = await claimed();
    edge.sockets[0]!.terminate();
    await new Promise((r) => setTimeout(r, 20));
    c.channel.send({ type: 'state', state: 'live' });
    await expect.poll(() => edge.sockets.length, { timeout: 3000 }).toBe(2);
    await expect.poll(() => edge.received[1]).toEqual(['{"type":"state","state":"live"}']);
    expect(edge.dials).toEqual([CLAIM, RESUME]);
    expect(c.channel.resumes).toBe(1);
    edge.sockets[1]!.send(JSON.stringify({ type: 'hangup', reason: 'client_hangup' }));
    await expect.poll(() => c.got.at(-1)).toEqual({ type: 'hangup', reason: 'client_hangup' });
    expect(c.closed).toEqual([]);
  });

  it('gives up and reports the close when the edge refuses the resume', async () => {
    edge = await fakeEdge();
    edge.refuseResume = true;
    const c = await claimed();
    edge.sockets[0]!.terminate();
    await expect.poll(() => c.closed.length, { timeout: 3000 }).toBe(1);
    expect(c.closed[0]!.code).toBe(1006);
    expect(c.channel.open).toBe(false);
  });

  it('does not dial back in when the edge closes normally (the session is over)', async () => {
    edge = await fakeEdge();
    const c = await claimed();
    edge.sockets[0]!.close(1000, 'client_hangup');
    await expect.poll(() => c.closed).toEqual([{ code: 1000 }]);
    await new Promise((r) => setTimeout(r, 300));
    expect(edge.dials).toEqual([CLAIM]);
  });

  it('reports refused and transient claims without a channel', async () => {
    edge = await fakeEdge();
    expect(await dialControl(edge.url, { ...job, controlToken: 'wrong-token-0123456' }, 'w-1')).toMatchObject({ kind: 'refused', status: 401 });
    const closed = await dialControl('http://127.0.0.1:9', job, 'w-1');
    expect(closed.kind).toBe('transient');
  });
});
