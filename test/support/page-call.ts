import type { Browser } from 'playwright-core';

/** One end of Chromium's selected candidate pair, from getStats(). */
export interface PairEnd {
  candidateType: string;
  address: string;
  port: number;
  protocol: string;
  /** For a local relay candidate: how Chromium reaches the TURN server (udp, tcp, tls). */
  relayProtocol?: string;
}

export interface PageCallResult {
  status: string;
  events: string[];
  errors: string[];
  /** The ICE server URLs the page handed to RTCPeerConnection. */
  iceUrls: string[];
  /**
   * `a=candidate` types of the browser's local description after the echo (trickled ones included;
   * with `awaitGatheringMs`, once gathering completed or that long after the echo).
   */
  offeredTypes: string[];
  /** The browser's iceGatheringState when offeredTypes was read. */
  gatheringState: string;
  pair: { state: string; nominated: boolean; bytesSent: number; bytesReceived: number } | null;
  local: PairEnd | null;
  remote: PairEnd | null;
  /** Remote audio received (inbound-rtp). */
  inbound: { packetsReceived: number; totalAudioEnergy: number } | null;
  /** ms from the click to 'connected', and to the first reply.end. */
  connectMs: number;
  echoMs: number;
}

/**
 * One call from the demo page at `pageUrl` in `browser`: waits for the echo of the spoken phrase
 * (`reply.end`), reads the selected candidate pair from Chromium's stats and hangs up.
 * `keepIceUrl`, when given, is a regular expression (source) that the ICE server URLs the page
 * gets from `GET /v1/ice-servers` must match to be kept: a provider handing out only those.
 * `apiKey`, for an edge with AUTH_MODE=token: the page first gets a client token with it
 * (`POST /v1/tokens`), as an application's server would hand one to its page, and sends it with
 * every other `/v1/` request. `awaitGatheringMs`: how long to wait after the echo for the browser's
 * candidate gathering to complete before reading its candidates (default: not at all).
 */
export async function callFromDemoPage(
  browser: Browser,
  pageUrl: string,
  o: { keepIceUrl?: string; timeoutMs?: number; apiKey?: string; awaitGatheringMs?: number } = {},
): Promise<PageCallResult> {
  const timeout = o.timeoutMs ?? 20_000;
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // In the page, so that the request goes out through the browser's own network.
  await page.addInitScript(({ keep, apiKey }: { keep: string | null; apiKey: string | null }) => {
    const w = window as any;
    w.__iceUrls = [];
    const orig = w.fetch.bind(w);
    let token: Promise<string> | null = null;
    const clientToken = () =>
      (token ??= orig('/v1/tokens', { method: 'POST', headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' }, body: '{}' })
        .then((r: Response) => r.json())
        .then((b: { token: string }) => b.token));
    w.fetch = async (input: any, init?: any) => {
      if (apiKey !== null && new URL(String(input), location.href).pathname.startsWith('/v1/')) {
        const headers = new Headers(init?.headers);
        headers.set('Authorization', `Bearer ${await clientToken()}`);
        init = { ...init, headers };
      }
      const res: Response = await orig(input, init);
      if (!String(input).endsWith('/v1/ice-servers') || !res.ok) return res;
      const body = await res.json();
      const re = keep === null ? null : new RegExp(keep);
      body.iceServers = body.iceServers
        .map((s: any) => ({ ...s, urls: s.urls.filter((u: string) => re === null || re.test(u)) }))
        .filter((s: any) => s.urls.length > 0);
      w.__iceUrls = body.iceServers.flatMap((s: any) => s.urls);
      return new Response(JSON.stringify(body), { status: res.status, headers: res.headers });
    };
  }, { keep: o.keepIceUrl ?? null, apiKey: o.apiKey ?? null });
  try {
    await page.goto(pageUrl);
    const t0 = Date.now();
    await page.click('#call');
    await page.waitForFunction(() => ['connected', 'failed'].includes((window as any).switchboard.status), null, { timeout });
    const status = await page.evaluate(() => (window as any).switchboard.status as string);
    const events = () => page.evaluate(() => (window as any).switchboard.events.map((e: any) => (e.type === 'error' ? `error: ${e.message}` : e.type)) as string[]);
    const iceUrls = await page.evaluate(() => (window as any).__iceUrls as string[]);
    if (status !== 'connected') {
      return { status, events: await events(), errors, iceUrls, offeredTypes: [], gatheringState: '', pair: null, local: null, remote: null, inbound: null, connectMs: Date.now() - t0, echoMs: 0 };
    }
    const connectMs = Date.now() - t0;
    await page.waitForFunction(() => (window as any).switchboard.events.some((e: any) => e.type === 'reply.end'), null, { timeout });
    const echoMs = Date.now() - t0;
    // A TURN allocation that is slow (a loaded machine) may finish after the call connected over
    // another pair; with awaitGatheringMs its relay candidate counts once it is there.
    if (o.awaitGatheringMs) {
      await page
        .waitForFunction(() => ((window as any).switchboard.pc as RTCPeerConnection).iceGatheringState === 'complete', null, { timeout: o.awaitGatheringMs })
        .catch(() => {});
    }
    const stats = await page.evaluate(async () => {
      const pc = (window as any).switchboard.pc as RTCPeerConnection;
      const report = (await pc.getStats()) as unknown as Map<string, any>;
      const all: any[] = [...report.values()];
      const transport = all.find((s) => s.type === 'transport' && s.selectedCandidatePairId);
      const pair: any = transport ? report.get(transport.selectedCandidatePairId) : all.find((s) => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded');
      const cand = (id: string | undefined) => {
        const c: any = id ? report.get(id) : undefined;
        return c ? { candidateType: c.candidateType, address: c.address, port: c.port, protocol: c.protocol, relayProtocol: c.relayProtocol } : null;
      };
      const inbound: any = all.find((s) => s.type === 'inbound-rtp' && s.kind === 'audio');
      return {
        gatheringState: pc.iceGatheringState,
        offeredTypes: (pc.localDescription?.sdp ?? '')
          .split(/\r?\n/)
          .filter((l) => l.startsWith('a=candidate:'))
          .map((l) => l.split(' ')[7] ?? ''),
        pair: pair ? { state: pair.state, nominated: Boolean(pair.nominated), bytesSent: pair.bytesSent, bytesReceived: pair.bytesReceived } : null,
        local: cand(pair?.localCandidateId),
        remote: cand(pair?.remoteCandidateId),
        inbound: inbound ? { packetsReceived: inbound.packetsReceived, totalAudioEnergy: inbound.totalAudioEnergy ?? 0 } : null,
      };
    });
    const result = { status, events: await events(), errors, iceUrls, ...stats, connectMs, echoMs };
    await page.click('#hangup');
    await page.waitForFunction(() => (window as any).switchboard.status === 'idle', null, { timeout: 5000 });
    return result;
  } finally {
    await page.close();
  }
}

export function describePair(r: PageCallResult): string {
  const c = (x: PairEnd | null) => (x ? `${x.candidateType} ${x.address}:${x.port}${x.relayProtocol ? ` (relay over ${x.relayProtocol})` : ''}` : 'none');
  return `${r.status} in ${r.connectMs} ms, echo done at ${r.echoMs} ms; selected pair ${c(r.local)} -> ${c(r.remote)}; inbound ${r.inbound?.packetsReceived ?? 0} packets, energy ${r.inbound?.totalAudioEnergy.toFixed(3) ?? 0}`;
}
