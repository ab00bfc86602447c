import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatFrames, readWav, silence, writeWav } from '../../media-worker/src/audio/pcm.ts';
import { edgeVarsFromEnv } from '../../scripts/stack/config.ts';
import { startCoturn, type LocalCoturn } from '../../scripts/stack/coturn.ts';
import { startEdge, type LocalEdge } from '../../scripts/stack/edge.ts';
import { startLocalSqsProcess, type LocalSqs } from '../../scripts/stack/local-sqs.ts';
import { startMediaWorker, type LocalWorker } from '../../scripts/stack/media-worker.ts';
import { launchChromium } from '../support/chromium.ts';
import { stopWorkerStep, tearDown } from '../support/teardown.ts';
import { createFirewallLab, FW_IP, FW_NS, type FirewallLab } from '../support/firewall-lab.ts';
import { netnsSkipReason } from '../support/netns.ts';
import { callFromDemoPage, describePair, type PageCallResult } from '../support/page-call.ts';
import { makeTestCa, nssSkipReason, trustInNssDb } from '../support/test-ca.ts';
import { skipOutsideCi } from '../support/skip-outside-ci.ts';

/**
 * Calls from behind an enterprise firewall that drops every UDP packet and lets TCP out only to
 * port 443. Headless Chromium runs in a network namespace with that firewall (nftables, see
 * test/support/firewall-lab.ts); a real coturn listens on 10.78.0.1:443 for TURN over UDP, TCP and
 * TLS (a certificate from a CA made at test time, trusted through the browser profile's NSS
 * database); the edge (TURN_PROVIDER=coturn) hands out all three URLs and serves the page on
 * 10.78.0.2:443; the media worker, in an open namespace, reaches coturn over UDP. Which path a
 * call took is read from Chromium's selected candidate pair (`getStats()`); the firewall's
 * counters show the browser's UDP was really dropped.
 *
 * Skipped, with the reason printed, without root (network namespaces) or without certutil; under
 * CI that is an error instead (support/skip-outside-ci.ts).
 */

const skip = skipOutsideCi('strict-firewall', (await netnsSkipReason()) ?? nssSkipReason());

const SECRET = 'e2e-firewall-static-auth-secret';
/** The edge is not on loopback, so it requires tokens (AUTH_MODE=token); the page gets one with this key. */
const API_KEY = 'e2e-firewall-api-key';
const speech = readWav(readFileSync(new URL('../fixtures/audio/speech-48k.wav', import.meta.url)));

let lab: FirewallLab | undefined;
let coturn: LocalCoturn | undefined;
let sqs: LocalSqs | undefined;
let edge: LocalEdge | undefined;
let worker: LocalWorker | undefined;
let browser: Browser | undefined;
let dir: string | undefined;

describe.skipIf(skip)('strict firewall: browser UDP dropped, TCP only to 443', () => {
  beforeAll(async () => {
    const t0 = Date.now();
    dir = mkdtempSync(join(tmpdir(), 'sb-fw-'));
    const ca = makeTestCa(join(dir, 'ca'), [FW_IP.turn]);
    lab = await createFirewallLab();
    const core = lab.wrap(FW_NS.core);
    [coturn, sqs] = await Promise.all([
      startCoturn({ secret: SECRET, listenIp: FW_IP.turn, port: 443, wrap: core, tls: { cert: ca.cert, pkey: ca.key } }),
      startLocalSqsProcess({ host: FW_IP.edge, queueName: 'fw-jobs', wrap: core }),
    ]);
    const edgeUrl = `http://${FW_IP.edge}:443`;
    edge = await startEdge({
      ip: FW_IP.edge,
      port: 443,
      wrap: core,
      quiet: true,
      vars: edgeVarsFromEnv({}, {
        PUBLIC_BASE_URL: edgeUrl,
        AUTH_MODE: 'token',
        API_KEYS: API_KEY,
        SQS_QUEUE_URL: sqs.queueUrl,
        SQS_ENDPOINT: sqs.endpoint,
        CLAIM_TIMEOUT_MS: '5000',
        TURN_PROVIDER: 'coturn',
        // turn:10.78.0.1:443?transport=udp, turn:...:443?transport=tcp, turns:...:443?transport=tcp
        TURN_URLS: coturn.urls.join(','),
        TURN_SECRET: SECRET,
        TURN_TTL_S: '600',
      }),
    });
    worker = await startMediaWorker({
      quiet: true,
      wrap: lab.wrap(FW_NS.worker),
      env: {
        PUBLIC_BASE_URL: edge.url,
        SQS_QUEUE_URL: sqs.queueUrl,
        SQS_ENDPOINT: sqs.endpoint,
        SQS_WAIT_S: '1',
        HANDLER: 'echo',
        MAX_SESSIONS: '2',
        RTC_INTERFACE: FW_IP.worker,
        ICE_POLICY: 'all',
        WORKER_ID: 'w-firewall',
      },
    });
    writeFileSync(join(dir, 'mic.wav'), writeWav(concatFrames([silence(48000, 1, 3000), speech, silence(48000, 1, 10_000)])));
    // Chromium on Linux reads its trust anchors from $HOME/.pki/nssdb: a HOME of its own trusts the test CA.
    const home = trustInNssDb(join(dir, 'home'), ca.caCert);
    const wrapper = join(dir, 'chromium-behind-firewall');
    writeFileSync(wrapper, `#!/bin/sh\nexport HOME='${home}'\nexec ${lab.wrap(FW_NS.browser).join(' ')} /usr/bin/chromium "$@"\n`);
    chmodSync(wrapper, 0o755);
    browser = await launchChromium({
      micWav: join(dir, 'mic.wav'),
      executablePath: wrapper,
      // getUserMedia needs a secure context; the page is on plain http.
      extraArgs: [`--unsafely-treat-insecure-origin-as-secure=${edge.url}`],
    });
    console.log(`[strict-firewall] namespaces, CA, coturn, fauxqs, edge, worker and Chromium up in ${Date.now() - t0} ms`);
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

  it('connects through TURN over TLS on 443 (turns:), and the echo comes back', async () => {
    const before = await lab!.dropped();
    // A provider handing out TURN over UDP and over TLS only.
    const r = await callFromDemoPage(browser!, `${edge!.url}/`, { apiKey: API_KEY, keepIceUrl: '^(turns:|turn:.*transport=udp)' });
    const dropped = await lab!.dropped();
    console.log(`[strict-firewall] TLS: ${describePair(r)}; browser UDP dropped ${dropped.udp - before.udp}`);
    expectRelayedEcho(r, 'tls');
    expect(r.iceUrls).toEqual([`turn:${FW_IP.turn}:443?transport=udp`, `turns:${FW_IP.turn}:443?transport=tcp`]);
    // The browser did try UDP (TURN over UDP, ICE checks to the worker's host candidate), all dropped.
    expect(dropped.udp - before.udp).toBeGreaterThan(0);
  });

  it('connects through TURN over TCP on 443, and the echo comes back', async () => {
    const before = await lab!.dropped();
    const r = await callFromDemoPage(browser!, `${edge!.url}/`, { apiKey: API_KEY, keepIceUrl: '^turn:' });
    const dropped = await lab!.dropped();
    console.log(`[strict-firewall] TCP: ${describePair(r)}; browser UDP dropped ${dropped.udp - before.udp}`);
    expect(r.iceUrls.some((u) => u.startsWith('turns:'))).toBe(false);
    expectRelayedEcho(r, 'tcp');
    expect(dropped.udp - before.udp).toBeGreaterThan(0);
  });

  it('with every URL the edge hands out, the call takes a TCP relay on 443', async () => {
    const r = await callFromDemoPage(browser!, `${edge!.url}/`, { apiKey: API_KEY });
    console.log(`[strict-firewall] all URLs: ${describePair(r)}`);
    expect(r.iceUrls).toEqual(coturn!.urls);
    expect(['tcp', 'tls']).toContain(r.local?.relayProtocol);
    expectRelayedEcho(r, r.local?.relayProtocol ?? 'none');
  });

  function expectRelayedEcho(r: PageCallResult, relayProtocol: string): void {
    expect(r.status, `call did not connect: ${r.events.join(', ')}\nworker output:\n${worker!.output().slice(-3000)}`).toBe('connected');
    expect(r.errors).toEqual([]);
    expect(r.pair?.state).toBe('succeeded');
    expect(r.local?.candidateType).toBe('relay');
    expect(r.local?.relayProtocol).toBe(relayProtocol);
    expect(r.local?.address).toBe(FW_IP.turn);
    // The worker heard the phrase and echoed it: the turn's events, and audible audio back.
    expect(r.events.slice(0, 3)).toEqual(['vad.start', 'vad.end', 'reply.start']);
    expect(r.events).toContain('reply.end');
    expect(r.inbound?.packetsReceived ?? 0).toBeGreaterThan(100);
    expect(r.inbound?.totalAudioEnergy ?? 0).toBeGreaterThan(0.01);
  }
});
