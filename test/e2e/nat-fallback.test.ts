import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { callFromDemoPage, describePair, type PageCallResult } from '../support/page-call.ts';
import { launchChromium } from '../support/chromium.ts';
import { stopWorkerStep, tearDown } from '../support/teardown.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatFrames, readWav, silence, writeWav } from '../../media-worker/src/audio/pcm.ts';
import { edgeVarsFromEnv } from '../../scripts/stack/config.ts';
import { startCoturn, type LocalCoturn } from '../../scripts/stack/coturn.ts';
import { startEdge, type LocalEdge } from '../../scripts/stack/edge.ts';
import { startLocalSqsProcess, type LocalSqs } from '../../scripts/stack/local-sqs.ts';
import { startMediaWorker, type LocalWorker } from '../../scripts/stack/media-worker.ts';
import { freePort } from '../../scripts/stack/ports.ts';
import { createNatLab, IP, netnsSkipReason, NS, type NatLab } from '../support/netns.ts';
import { skipOutsideCi } from '../support/skip-outside-ci.ts';

/**
 * NAT traversal proven with real network separation: headless Chromium and a media worker process
 * in separate network namespaces, routed through a third (see test/support/netns.ts) that runs
 * coturn, fauxqs and the edge (wrangler dev, TURN_PROVIDER=coturn) on 10.77.0.1. Both peers
 * always reach those; the direct UDP path between them is dropped by nftables while the block is on.
 * Which path a call took is read from Chromium's selected candidate pair (`getStats()`), and
 * cross-checked with the router's count of UDP forwarded between the two subnets.
 *
 * Skipped, with the reason printed, where namespaces cannot be created (not root, or no
 * CAP_SYS_ADMIN); under CI that is an error (support/skip-outside-ci.ts): CI runs as root and runs it.
 */

const skip = skipOutsideCi('nat-fallback', await netnsSkipReason());

const SECRET = 'e2e-nat-static-auth-secret';
/** The edge is not on loopback, so it runs AUTH_MODE=token: the page gets a client token with this key. */
const API_KEY = 'e2e-nat-api-key';
const TURN_PORT = 3478;
const speech = readWav(readFileSync(new URL('../fixtures/audio/speech-48k.wav', import.meta.url)));

let lab: NatLab | undefined;
let coturn: LocalCoturn | undefined;
let sqs: LocalSqs | undefined;
let edge: LocalEdge | undefined;
let worker: LocalWorker | undefined;
let browser: Browser | undefined;
let dir: string | undefined;

const describeRoot = describe.skipIf(skip);

describeRoot('NAT traversal: Chromium and a media worker in separate network namespaces, a real coturn between them', () => {
  beforeAll(async () => {
    const t0 = Date.now();
    lab = await createNatLab();
    const core = lab.wrap(NS.core);
    [coturn, sqs] = await Promise.all([
      startCoturn({ secret: SECRET, listenIp: IP.core, port: TURN_PORT, wrap: core }),
      startLocalSqsProcess({ host: IP.core, queueName: 'nat-jobs', wrap: core }),
    ]);
    const port = await freePort();
    const edgeUrl = `http://${IP.core}:${port}`;
    edge = await startEdge({
      ip: IP.core,
      port,
      wrap: core,
      quiet: true,
      vars: edgeVarsFromEnv({}, {
        PUBLIC_BASE_URL: edgeUrl,
        AUTH_MODE: 'token',
        API_KEYS: API_KEY,
        TOKEN_SECRET: 'e2e-nat-token-secret',
        SQS_QUEUE_URL: sqs.queueUrl,
        SQS_ENDPOINT: sqs.endpoint,
        CLAIM_TIMEOUT_MS: '5000',
        TURN_PROVIDER: 'coturn',
        TURN_URLS: coturn.urls[0]!, // turn:10.77.0.1:3478?transport=udp
        TURN_SECRET: SECRET,
        TURN_TTL_S: '600',
      }),
    });
    worker = await startMediaWorker({
      quiet: true,
      wrap: lab.wrap(NS.worker),
      env: {
        PUBLIC_BASE_URL: edge.url,
        SQS_QUEUE_URL: sqs.queueUrl,
        SQS_ENDPOINT: sqs.endpoint,
        SQS_WAIT_S: '1',
        HANDLER: 'echo',
        MAX_SESSIONS: '2',
        RTC_INTERFACE: IP.worker,
        ICE_POLICY: 'all',
        WORKER_ID: 'w-nat',
      },
    });
    // Chromium runs inside the browser namespace through a wrapper; Playwright drives it over a
    // pipe, so the test process needs no route there.
    dir = mkdtempSync(join(tmpdir(), 'sb-nat-'));
    writeFileSync(join(dir, 'mic.wav'), writeWav(concatFrames([silence(48000, 1, 3000), speech, silence(48000, 1, 10_000)])));
    const wrapper = join(dir, 'chromium-in-netns');
    writeFileSync(wrapper, `#!/bin/sh\nexec ${lab.wrap(NS.browser).join(' ')} /usr/bin/chromium "$@"\n`);
    chmodSync(wrapper, 0o755);
    browser = await launchChromium({
      micWav: join(dir, 'mic.wav'),
      executablePath: wrapper,
      // getUserMedia needs a secure context; the page is on plain http at 10.77.0.1.
      extraArgs: [`--unsafely-treat-insecure-origin-as-secure=${edge.url}`],
    });
    console.log(`[nat-fallback] namespaces, coturn, fauxqs, edge, worker and Chromium up in ${Date.now() - t0} ms`);
  });

  afterAll(async () => {
    const failures = await tearDown([
      ['browser', async () => browser?.close()],
      stopWorkerStep(worker),
      ['edge', async () => edge?.stop()],
      ['fauxqs', async () => sqs?.stop()],
      ['coturn', async () => coturn?.stop()],
      ['namespaces', async () => lab?.remove()],
    ]);
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(failures).toEqual([]);
  });

  it('falls back to the TURN relay when direct UDP is blocked (policy all on both sides), and the echo comes back', async () => {
    await lab!.blockUdp(true);
    const r = await call();
    const dropped = await lab!.droppedUdp();
    console.log(`[nat-fallback] UDP blocked: ${describePair(r)}; ${dropped} direct UDP packets dropped`);
    expect(r.status, `call did not connect: ${r.events.join(', ')}\nworker output:\n${worker!.output().slice(-3000)}`).toBe('connected');
    expect(r.errors).toEqual([]);
    expect(r.offeredTypes).toContain('host');
    expect(r.offeredTypes, `the browser gathered no relay candidate (gathering ${r.gatheringState}; ICE servers ${r.iceUrls.join(' ')})`).toContain('relay');
    expect(r.pair?.state).toBe('succeeded');
    // Through the relay: at least one end of the selected pair is a coturn allocation.
    expect([r.local?.candidateType, r.remote?.candidateType]).toContain('relay');
    const relayEnd = r.local?.candidateType === 'relay' ? r.local : r.remote;
    expect(relayEnd?.address).toBe(IP.core);
    // The direct path was tried, and dropped.
    expect(dropped).toBeGreaterThan(0);
    expectEcho(r);
  });

  it('connects directly (host candidates, no relay) once the block is lifted', async () => {
    await lab!.blockUdp(false);
    const before = await lab!.forwardedUdp();
    const r = await call();
    const forwarded = (await lab!.forwardedUdp()) - before;
    console.log(`[nat-fallback] UDP open: ${describePair(r)}; ${forwarded} UDP packets forwarded between the peers`);
    expect(r.status, `call did not connect: ${r.events.join(', ')}\nworker output:\n${worker!.output().slice(-3000)}`).toBe('connected');
    expect(r.errors).toEqual([]);
    expect(r.pair?.state).toBe('succeeded');
    expect(r.local?.candidateType).not.toBe('relay');
    expect(r.remote?.candidateType).not.toBe('relay');
    expect(r.local?.address).toBe(IP.browser);
    expect(r.remote?.address).toBe(IP.worker);
    // The media went straight between the namespaces (Opus at 50 packets/s each way).
    expect(forwarded).toBeGreaterThan(200);
    expectEcho(r);
  });

  it('goes through the relay when the browser is forced to (?relay=1), even with the direct path open', async () => {
    await lab!.blockUdp(false);
    const before = await lab!.forwardedUdp();
    const r = await call('?relay=1');
    const forwarded = (await lab!.forwardedUdp()) - before;
    console.log(`[nat-fallback] browser relay-only: ${describePair(r)}; ${forwarded} UDP packets forwarded between the peers`);
    expect(r.status, `call did not connect: ${r.events.join(', ')}\nworker output:\n${worker!.output().slice(-3000)}`).toBe('connected');
    expect(r.errors).toEqual([]);
    expect(new Set(r.offeredTypes)).toEqual(new Set(['relay']));
    expect(r.pair?.state).toBe('succeeded');
    expect(r.local?.candidateType).toBe('relay');
    expect(r.local?.relayProtocol).toBe('udp');
    expect(r.local?.address).toBe(IP.core);
    // Not one packet took the direct path between the namespaces.
    expect(forwarded).toBe(0);
    expectEcho(r);
  });
});

/**
 * One call from the demo page (`query` appended to its URL), with a client token. The browser's
 * candidates are read once its gathering is complete (up to 10 s after the echo), so a relay
 * candidate whose TURN allocation ends after the call connected over another pair still counts.
 */
function call(query = ''): Promise<PageCallResult> {
  return callFromDemoPage(browser!, `${edge!.url}/${query}`, { apiKey: API_KEY, awaitGatheringMs: 10_000 });
}

/** The worker heard the phrase and echoed it: the turn's events arrived, and audible audio came back. */
function expectEcho(r: PageCallResult): void {
  expect(r.events.slice(0, 3)).toEqual(['vad.start', 'vad.end', 'reply.start']);
  expect(r.events).toContain('reply.end');
  // The microphone file leads with 3 s of silence so the call is up before the phrase: the whole
  // 2.4 s phrase comes back (about 140 packets of 20 ms); at least 2 s of it.
  expect(r.inbound?.packetsReceived ?? 0).toBeGreaterThan(100);
  expect(r.inbound?.totalAudioEnergy ?? 0).toBeGreaterThan(0.01);
}
