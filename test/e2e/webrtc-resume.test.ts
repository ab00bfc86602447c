import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from '../support/inject.ts';
import type { LocalWorker } from '../../scripts/stack/media-worker.ts';
import { killE2eWorkers, startE2eWorker } from '../support/worker-config.ts';
import { RtcTestClient } from '../support/rtc-client.ts';

/**
 * A WebRTC call survives its connection: the client resumes (`POST /v1/sessions/{id}/resume`) on
 * a new peer connection, and the handler's `ctx.state` (a turn counter, checkpointed at each
 * turn end) carries on. Against real worker processes: the worker holding the call SIGKILLed
 * (another worker takes the call over), the client's address changing (the same worker moves
 * the call), the client's peer connection closing (the worker waits for the resume). The audio
 * gaps are printed for the docs.
 */

const edge = inject('edgeUrl');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const status = async (id: string): Promise<Record<string, unknown>> => (await fetch(`${edge}/v1/sessions/${id}/status`)).json();
const idOf = (client: RtcTestClient) => client.sessionUrl.split('/').pop()!;
const TURN_COUNTER = fileURLToPath(new URL('../fixtures/handlers/turn-counter-echo.ts', import.meta.url));

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

async function startWorker(id: string): Promise<LocalWorker> {
  const w = await startE2eWorker({
    HANDLER: TURN_COUNTER,
    MAX_SESSIONS: '4',
    WORKER_ID: id,
  });
  cleanups.push(() => killE2eWorkers([w]));
  return w;
}

async function connect(): Promise<RtcTestClient> {
  const client = await RtcTestClient.connect(edge);
  cleanups.push(() => client.hangup());
  return client;
}

/** Sends a 440 Hz tone as 20 ms packets (echoed back by the handler) until stopped. */
function talk(client: RtcTestClient): { stop(): Promise<void> } {
  const ctl = new AbortController();
  const tone = { samples: new Int16Array(48000 * 40).map((_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 48000))), sampleRate: 48000, channels: 1 };
  const playing = client.play(tone, ctl.signal);
  cleanups.push(async () => ctl.abort());
  return {
    stop: async () => {
      ctl.abort();
      await playing;
    },
  };
}

/** Counts a turn (the handler's counter in ctx.state) and returns its `turn.count` event. */
async function countTurn(client: RtcTestClient): Promise<{ turns: number; resumed: boolean }> {
  const before = client.events.filter((e) => e.type === 'turn.count').length;
  client.channel.send(JSON.stringify({ type: 'turn' }));
  const got = await client.waitForEvents('turn.count', before + 1, 5000);
  return got[before] as unknown as { turns: number; resumed: boolean };
}

/** The silence of a move: the last packet heard on the old connection to the first on the new one (ms). */
function audioGap(client: RtcTestClient, oldPeer: number, newPeer: number): number {
  const lastOld = client.received.filter((r) => r.peer === oldPeer).at(-1);
  const firstNew = client.received.find((r) => r.peer === newPeer);
  if (!lastOld || !firstNew) throw new Error(`no audio on peer ${lastOld ? newPeer : oldPeer}`);
  return firstNew.at - lastOld.at;
}

describe('WebRTC resume', () => {
  it('the worker holding the call is SIGKILLed: the client resumes, the other worker takes the call over with ctx.state (as a takeover: no greeting); gap < 2 s', async () => {
    const workers = new Map([
      ['w-resume-a', await startWorker('w-resume-a')],
      ['w-resume-b', await startWorker('w-resume-b')],
    ]);
    const client = await connect();
    const id = idOf(client);
    const talking = talk(client);
    await expect.poll(() => client.received.length, { timeout: 3000 }).toBeGreaterThan(10);
    for (const n of [1, 2, 3]) expect(await countTurn(client)).toEqual({ type: 'turn.count', turns: n, resumed: false, receivedAt: expect.any(Number) });
    // The third checkpoint left with its turn.count event; give the edge a moment to store it.
    await sleep(300);

    const holder = String((await status(id)).workerId);
    const victim = workers.get(holder);
    expect(victim, `the call is on ${holder}`).toBeDefined();
    await victim!.stop('SIGKILL');
    // A client notices its media stopped and resumes; this one does at once.
    const resumeMs = await client.resume();
    await expect.poll(() => client.received.some((r) => r.peer === 1), { timeout: 5000 }).toBe(true);
    const gap = audioGap(client, 0, 1);
    console.log(
      `resume after SIGKILL: audio gap ${gap.toFixed(0)} ms (the client's offer ${client.resumeOfferMs.toFixed(0)} ms, resume POST to connected ${resumeMs.toFixed(0)} ms)`,
    );

    const after = await status(id);
    expect(after).toMatchObject({ state: 'live' });
    expect(after['workerId']).not.toBe(holder);
    expect(await countTurn(client)).toMatchObject({ turns: 4, resumed: true });
    // The echo goes on over the new connection.
    const heard = client.received.length;
    await sleep(500);
    expect(client.received.length - heard).toBeGreaterThan(15);
    expect(gap).toBeLessThan(2000);
    await talking.stop();
  }, 60_000);

  it('the client moves to a new address (127.0.0.2): the same worker answers and moves the call, the echo comes back, ctx.state goes on', async () => {
    await startWorker('w-resume-c');
    const client = await connect();
    const id = idOf(client);
    const talking = talk(client);
    await expect.poll(() => client.received.length, { timeout: 3000 }).toBeGreaterThan(10);
    expect(await countTurn(client)).toMatchObject({ turns: 1, resumed: false });
    expect(await countTurn(client)).toMatchObject({ turns: 2 });
    const holder = (await status(id)).workerId;
    expect(client.localAddress()).toBe('127.0.0.1');

    const resumeMs = await client.resume({ localAddress: '127.0.0.2' });
    await expect.poll(() => client.received.some((r) => r.peer === 1), { timeout: 5000 }).toBe(true);
    const gap = audioGap(client, 0, 1);
    console.log(
      `resume on the live worker from a new address: audio gap ${gap.toFixed(0)} ms (the client's offer ${client.resumeOfferMs.toFixed(0)} ms, resume POST to connected ${resumeMs.toFixed(0)} ms)`,
    );
    expect(client.localAddress()).toBe('127.0.0.2');

    expect(await status(id)).toMatchObject({ state: 'live', workerId: holder });
    expect(await countTurn(client)).toMatchObject({ turns: 3, resumed: true });
    const heard = client.received.filter((r) => r.peer === 1).length;
    await sleep(500);
    expect(client.received.filter((r) => r.peer === 1).length - heard).toBeGreaterThan(15);
    // Nothing comes on the old connection any more: the worker closed it.
    const oldCount = client.received.filter((r) => r.peer === 0).length;
    await sleep(200);
    expect(client.received.filter((r) => r.peer === 0).length).toBe(oldCount);
    expect(gap).toBeLessThan(2000);
    await talking.stop();
  }, 60_000);

  it('the client closes its peer connection: the session waits for a resume instead of ending', async () => {
    await startWorker('w-resume-d');
    const client = await connect();
    const id = idOf(client);
    const talking = talk(client);
    await expect.poll(() => client.received.length, { timeout: 3000 }).toBeGreaterThan(10);
    expect(await countTurn(client)).toMatchObject({ turns: 1 });
    await client.pc.close();
    await sleep(1500);
    // Without the wait the worker would have ended it as peer_closed by now.
    expect(await status(id)).toMatchObject({ state: 'live' });
    await client.resume();
    await expect.poll(() => client.received.some((r) => r.peer === 1), { timeout: 5000 }).toBe(true);
    expect(await countTurn(client)).toMatchObject({ turns: 2, resumed: true });
    await talking.stop();
  }, 30_000);
});
