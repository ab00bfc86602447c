import { sendWebhook } from '../scripts/phone/signed-webhook.ts';
import { procSample } from './media/proc-cpu.ts';
import { benchClientIp } from './stack/client-ip.ts';
import { makeOffer } from './stack/whip-offer.ts';
import { edgeProcesses } from './stack/edge-processes.ts';

export interface EdgeCostResult {
  route: string;
  requests: number;
  /**
   * CPU per request (user + system, less the process's idle CPU over the same wall time, ms) of the
   * workerd that runs the Worker and its Durable Objects: the part that exists in production.
   */
  cpuMsPerRequest: number;
  /** The same for wrangler dev's proxy workerd and wrangler's Node process together (dev only). */
  devProxyCpuMsPerRequest: number;
  failures: number;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * CPU time the edge spends per request, read from /proc over `requests` sequential requests. The
 * media worker and the load generator run elsewhere. /proc counts in 10 ms ticks, hence many
 * requests per reading.
 */
async function measure(route: string, port: number, requests: number, send: (i: number) => Promise<boolean>): Promise<EdgeCostResult> {
  const { runtime, proxy, wrangler } = edgeProcesses(port);
  const cpu = () => {
    const dev = (proxy === undefined ? 0 : procSample(proxy).cpuMs) + procSample(wrangler).cpuMs;
    return { runtime: procSample(runtime).cpuMs, dev };
  };
  const i0 = cpu();
  const idleMs = 1000;
  await new Promise((r) => setTimeout(r, idleMs));
  const i1 = cpu();
  let failures = 0;
  const t0 = performance.now();
  const a = cpu();
  for (let i = 0; i < requests; i++) if (!(await send(i))) failures++;
  const b = cpu();
  const wall = performance.now() - t0;
  const perRequest = (k: 'runtime' | 'dev') => round2((b[k] - a[k] - ((i1[k] - i0[k]) / idleMs) * wall) / requests);
  return { route, requests, cpuMsPerRequest: perRequest('runtime'), devProxyCpuMsPerRequest: perRequest('dev'), failures };
}

/** `POST /v1/sessions` with a worker answering (each session deleted after its 201). */
export async function edgeCostSessions(edgeUrl: string, port: number, requests: number): Promise<EdgeCostResult> {
  const offers = await Promise.all(Array.from({ length: Math.min(requests, 20) }, () => makeOffer()));
  try {
    return await measure('POST /v1/sessions (+ DELETE)', port, requests, async (i) => {
      const res = await fetch(`${edgeUrl}/v1/sessions`, { method: 'POST', headers: { 'Content-Type': 'application/sdp', ...benchClientIp() }, body: offers[i % offers.length]!.sdp });
      await res.text();
      const location = res.headers.get('Location');
      if (location) await (await fetch(`${edgeUrl}${location}`, { method: 'DELETE' })).text();
      return res.status === 201;
    });
  } finally {
    for (const o of offers) await o.pc.close();
  }
}

/**
 * `POST /twilio/voice`, signed, for distinct new calls with a worker claiming them (the answer is
 * `<Connect><Stream>`), each ended by its signed `completed` status callback.
 */
export async function edgeCostVoiceWebhook(edgeUrl: string, publicBaseUrl: string, authToken: string, port: number, requests: number): Promise<EdgeCostResult> {
  return measure('POST /twilio/voice (+ status completed)', port, requests, async () => {
    const params = {
      AccountSid: 'AC00000000000000000000000000000000',
      CallSid: `CA${crypto.randomUUID().replaceAll('-', '')}`,
      From: '+15550100001',
      To: '+15550100000',
      CallStatus: 'ringing',
      Direction: 'inbound',
    };
    const r = await sendWebhook({ signedUrl: `${publicBaseUrl}/twilio/voice`, requestUrl: `${edgeUrl}/twilio/voice`, params, authToken });
    const done = await sendWebhook({
      signedUrl: `${publicBaseUrl}/twilio/status`,
      requestUrl: `${edgeUrl}/twilio/status`,
      params: { ...params, CallStatus: 'completed', CallDuration: '1' },
      authToken,
    });
    return r.status === 200 && r.body.includes('<Connect') && done.status < 300;
  });
}
