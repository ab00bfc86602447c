import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { IceServersResponse, type IceServer } from '@switchboard/protocol';
import { RTCPeerConnection } from 'werift';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWav } from '../../media-worker/src/audio/pcm.ts';
import { loadWorkerConfig } from '../../media-worker/src/config.ts';
import { loadHandler } from '../../media-worker/src/handlers/load.ts';
import type { Handler } from '../../media-worker/src/handlers/types.ts';
import { createMetrics } from '../../media-worker/src/http/metrics.ts';
import type { VadFactory } from '../../media-worker/src/pipeline/session-pipeline.ts';
import { createVadFactory } from '../../media-worker/src/vad/factory.ts';
import { MediaWorker } from '../../media-worker/src/worker.ts';
import { edgeVarsFromEnv } from '../../scripts/stack/config.ts';
import { startCoturn, type LocalCoturn } from '../../scripts/stack/coturn.ts';
import { turnAllocate } from '../../scripts/stack/stun-client.ts';
import { startEdge, type LocalEdge } from '../../scripts/stack/edge.ts';
import { startLocalSqs, type LocalSqs } from '../../scripts/stack/local-sqs.ts';
import { freePort } from '../../scripts/stack/ports.ts';
import { RtcTestClient } from '../support/rtc-client.ts';

/**
 * NAT traversal through a real coturn (`/usr/bin/turnserver`, TURN REST API shared secret).
 * This file runs its own stack: coturn, a separate fauxqs queue (so the shared e2e queue's jobs are
 * not taken), an edge with TURN_PROVIDER=coturn, and in-process media workers.
 *
 * coturn listens on 127.0.0.1 but relays on 127.0.0.2 (all of 127/8 is loopback on Linux), so a
 * relayed candidate or path is told apart from a host one by its address alone: every peer's
 * host candidates are on 127.0.0.1.
 */

const SECRET = 'e2e-turn-static-auth-secret';
const RELAY_IP = '127.0.0.2';
const RELAY_PORTS: [number, number] = [50_000, 50_999];
const TTL_S = 600;

let coturn: LocalCoturn;
let sqs: LocalSqs;
let edge: LocalEdge;
let handler: Handler;
let vad: VadFactory;
const workerLog: string[] = [];

beforeAll(async () => {
  [coturn, sqs] = await Promise.all([
    startCoturn({ secret: SECRET, listenIp: '127.0.0.1', relayIp: RELAY_IP, minPort: RELAY_PORTS[0], maxPort: RELAY_PORTS[1] }),
    startLocalSqs({ queueName: 'turn-jobs' }),
  ]);
  const port = await freePort();
  [edge, handler, vad] = await Promise.all([
    startEdge({
      port,
      quiet: true,
      vars: edgeVarsFromEnv({}, {
        PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
        SQS_QUEUE_URL: sqs.queueUrl,
        SQS_ENDPOINT: sqs.endpoint,
        CLAIM_TIMEOUT_MS: '5000',
        TURN_PROVIDER: 'coturn',
        TURN_URLS: coturn.urls[0]!, // turn:127.0.0.1:<port>?transport=udp
        TURN_SECRET: SECRET,
        TURN_TTL_S: String(TTL_S),
      }),
    }),
    loadHandler('echo'),
    createVadFactory(),
  ]);
});

afterAll(async () => {
  await edge?.stop();
  await sqs?.stop();
  await coturn?.stop();
});

/** An in-process media worker on this file's queue and edge; drained by the caller. */
function startWorker(icePolicy: 'all' | 'relay'): MediaWorker {
  const config = loadWorkerConfig({
    PUBLIC_BASE_URL: edge.url,
    SQS_QUEUE_URL: sqs.queueUrl,
    SQS_ENDPOINT: sqs.endpoint,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    SQS_WAIT_S: '1',
    MAX_SESSIONS: '2',
    RTC_INTERFACE: '127.0.0.1',
    // Every peer here (client, coturn's relay on 127.0.0.2) is on loopback.
    RTC_ALLOW_PEER_ADDRESSES: 'loopback',
    ICE_POLICY: icePolicy,
    WORKER_ID: `w-turn-${icePolicy}`,
  });
  const worker = new MediaWorker(config, handler, vad, createMetrics(), (m) => workerLog.push(m));
  worker.start();
  return worker;
}

async function iceServersFromEdge(): Promise<IceServersResponse> {
  const res = await fetch(`${edge.url}/v1/ice-servers`);
  expect(res.status).toBe(200);
  return IceServersResponse.parse(await res.json());
}

/** TURN REST API credentials as coturn checks them, minted here with node:crypto. */
function mint(expiry: number, user: string, secret = SECRET): { username: string; credential: string } {
  const username = `${expiry}:${user}`;
  return { username, credential: createHmac('sha1', secret).update(username).digest('base64') };
}

interface Cand {
  type: string;
  ip: string;
  port: number;
}

/** `a=candidate` lines of an SDP, parsed. */
function candidates(sdp: string): Cand[] {
  return sdp
    .split(/\r?\n/)
    .filter((l) => l.startsWith('a=candidate:'))
    .map((l) => {
      const f = l.slice('a=candidate:'.length).split(' ');
      return { ip: f[4]!, port: Number(f[5]), type: f[7]! };
    });
}

const isOurRelay = (c: { type: string; ip?: string; host?: string; port: number }) =>
  c.type === 'relay' && (c.ip ?? c.host) === RELAY_IP && c.port >= RELAY_PORTS[0] && c.port <= RELAY_PORTS[1];

/** werift gathering with `iceTransportPolicy: 'relay'`: the candidates it found, and how long it took. */
async function gatherRelayOnly(iceServers: IceServer[]): Promise<{ cands: Cand[]; ms: number }> {
  const t0 = performance.now();
  const pc = new RTCPeerConnection({
    iceServers: iceServers.map((s) => ({ urls: s.urls, username: s.username, credential: s.credential })),
    iceTransportPolicy: 'relay',
    bundlePolicy: 'max-bundle',
    iceUseIpv6: false,
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
    iceAdditionalHostAddresses: ['127.0.0.1'],
  });
  try {
    pc.createDataChannel('probe');
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('gathering did not complete within 25 s')), 25_000);
      const done = () => (clearTimeout(t), resolve());
      if (pc.iceGatheringState === 'complete') done();
      else pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && done());
    });
    return { cands: candidates(pc.localDescription!.sdp), ms: Math.round(performance.now() - t0) };
  } finally {
    await pc.close();
  }
}

/** The candidate pair werift nominated on the client's (single, bundled) ICE transport. */
function nominatedPair(client: RtcTestClient) {
  const pair = client.pc.iceTransports[0]?.connection.nominated;
  expect(pair, 'the client has a nominated candidate pair').toBeDefined();
  return { local: pair!.localCandidate, remote: pair!.remoteCandidate };
}

const utterance = readWav(readFileSync(new URL('../fixtures/audio/short-utterance.wav', import.meta.url)));

/** Speaks the fixture, waits for the echo's `reply.end`, and checks the echo audio arrived. */
async function echoOnce(client: RtcTestClient): Promise<void> {
  await client.play(utterance);
  await client.silence(800);
  const [start] = await client.waitForEvents('reply.start', 1, 15_000);
  const [end] = await client.waitForEvents('reply.end', 1, 15_000);
  const echoed = client.receivedBetween(start!.receivedAt - 100, end!.receivedAt + 100);
  // short-utterance.wav is ~2.2 s with ~1.7 s of speech: the echo brings back speech-level audio.
  const loud = echoed.samples.filter((x) => Math.abs(x) > 1000).length;
  expect(echoed.samples.length / 48).toBeGreaterThan(1000);
  expect(loud).toBeGreaterThan(4800);
}

async function status(client: RtcTestClient): Promise<{ state: string; reason?: string; workerId?: string }> {
  return (await fetch(`${client.sessionUrl}/status`)).json();
}

describe('TURN through a real coturn', () => {
  it('GET /v1/ice-servers returns coturn REST credentials that coturn accepts (werift gathers a relay candidate)', async () => {
    const before = Math.floor(Date.now() / 1000);
    const body = await iceServersFromEdge();
    expect(body.iceServers).toHaveLength(1);
    const turn = body.iceServers[0]!;
    expect(turn.urls).toEqual([coturn.urls[0]]);
    const m = /^(\d+):client:[0-9a-f-]{36}$/.exec(turn.username ?? '');
    expect(m, `username ${turn.username}`).not.toBeNull();
    const expiry = Number(m![1]);
    expect(expiry).toBeGreaterThanOrEqual(before + TTL_S);
    expect(expiry).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + TTL_S);
    expect(body.expiresAt).toBe(expiry * 1000);
    expect(turn.credential).toBe(createHmac('sha1', SECRET).update(turn.username!).digest('base64'));

    // coturn itself grants an allocation with them...
    const alloc = await turnAllocate({ host: coturn.host, port: coturn.port, username: turn.username!, credential: turn.credential! });
    expect(alloc).toMatchObject({ ok: true, relayed: { ip: RELAY_IP } });
    // ...and so a WebRTC stack given them gathers a relayed candidate on coturn's relay address.
    const { cands } = await gatherRelayOnly(body.iceServers);
    expect(cands.length).toBeGreaterThan(0);
    expect(cands.every(isOurRelay), JSON.stringify(cands)).toBe(true);
  });

  it('expired credentials are refused by coturn (401, no relay candidate) while fresh ones work', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = mint(now - 60, 'client:expired-test');
    const fresh = mint(now + 60, 'client:fresh-test');
    const forged = mint(now + 60, 'client:forged-test', 'not-the-secret');

    // The raw TURN exchange: coturn answers the authenticated Allocate with 401, not a timeout.
    const onCoturn = (c: { username: string; credential: string }) => turnAllocate({ host: coturn.host, port: coturn.port, ...c });
    expect(await onCoturn(expired)).toEqual({ ok: false, code: 401, reason: 'Unauthorized' });
    expect(await onCoturn(forged)).toEqual({ ok: false, code: 401, reason: 'Unauthorized' });
    expect(await onCoturn(fresh)).toMatchObject({ ok: true, relayed: { ip: RELAY_IP } });
    expect(coturn.output()).toContain(`Cannot find credentials of user <${expired.username}>`);

    // werift: no relay candidate with the expired ones, one with the fresh ones. (werift drops
    // coturn's unsigned 401 to its signed request and retransmits until it gives up, over UDP
    // and then TCP: about 12 s. Both gather at once to keep the test short.)
    const urls = [coturn.urls[0]!];
    const [withExpired, withFresh] = await Promise.all([
      gatherRelayOnly([{ urls, ...expired }]),
      gatherRelayOnly([{ urls, ...fresh }]),
    ]);
    expect(withExpired.cands).toEqual([]);
    expect(withFresh.cands.length).toBeGreaterThan(0);
    expect(withFresh.cands.every(isOurRelay), JSON.stringify(withFresh.cands)).toBe(true);
    console.log(`[turn] relay gathering: fresh ${withFresh.ms} ms, expired gave up after ${withExpired.ms} ms`);
  });

  it('a worker forced to relay (ICE_POLICY=relay) answers with relay candidates only, and the call echoes through coturn', async () => {
    const worker = startWorker('relay');
    try {
      const client = await RtcTestClient.connect(edge.url);
      const answer = candidates(client.pc.remoteDescription!.sdp);
      expect(answer.length).toBeGreaterThan(0);
      expect(answer.every(isOurRelay), `worker answer candidates ${JSON.stringify(answer)}`).toBe(true);
      // The client (host candidates only) talks to the worker's relayed address on coturn.
      const { local, remote } = nominatedPair(client);
      expect(local.type).toBe('host');
      expect(isOurRelay(remote), `nominated remote ${remote.host}:${remote.port} ${remote.type}`).toBe(true);
      await expect.poll(async () => (await status(client)).state).toBe('live');

      await echoOnce(client);
      expect(await client.hangup()).toBe(200);
      await expect.poll(() => worker.activeSessions, { timeout: 5000 }).toBe(0);
      expect(await status(client)).toMatchObject({ state: 'ended', reason: 'client_hangup', workerId: 'w-turn-relay' });
    } finally {
      await worker.drain(3000);
    }
  });

  it('a client forced to relay (iceTransportPolicy relay, servers from /v1/ice-servers) connects and echoes', async () => {
    const worker = startWorker('all');
    try {
      const { iceServers } = await iceServersFromEdge();
      const client = await RtcTestClient.connect(edge.url, { iceServers, iceTransportPolicy: 'relay' });
      const offer = candidates(client.pc.localDescription!.sdp);
      expect(offer.length).toBeGreaterThan(0);
      expect(offer.every(isOurRelay), `client offer candidates ${JSON.stringify(offer)}`).toBe(true);
      // The worker may gather host and relay candidates; the client's side of the path is coturn.
      const answer = candidates(client.pc.remoteDescription!.sdp);
      expect(answer.some((c) => c.type === 'host')).toBe(true);
      const { local } = nominatedPair(client);
      expect(isOurRelay(local), `nominated local ${local.host}:${local.port} ${local.type}`).toBe(true);
      await expect.poll(async () => (await status(client)).state).toBe('live');

      await echoOnce(client);
      expect(await client.hangup()).toBe(200);
      await expect.poll(() => worker.activeSessions, { timeout: 5000 }).toBe(0);
      expect(await status(client)).toMatchObject({ state: 'ended', reason: 'client_hangup', workerId: 'w-turn-all' });
    } finally {
      await worker.drain(3000);
    }
  });
});
