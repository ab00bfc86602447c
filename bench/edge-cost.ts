import { sendWebhook } from '../scripts/phone/signed-webhook.ts';
import { procUsage } from './proc-stat.ts';
import { benchClientIp } from './stack/client-ip.ts';
import { makeOffer } from './stack/whip-offer.ts';
import { workerdPid } from './stack/workerd-pid.ts';

export interface EdgeCostResult {
  route: string;
  requests: number;
  /** workerd CPU (user + system) per request, less its idle CPU over the same wall time, ms. */
  cpuMsPerRequest: number;
  failures: number;
}

async function idleCpuMsPerMs(pid: number, ms: number): Promise<number> {
  const a = procUsage(pid).cpuMs;
  await new Promise((r) => setTimeout(r, ms));
  return (procUsage(pid).cpuMs - a) / ms;
}

/**
 * CPU time workerd spends per request, read from /proc over `requests` sequential requests (the
 * Worker, the Durable Object and the queue send all run in that one process; the media worker and
 * the load generator run elsewhere). /proc counts in 10 ms ticks, hence many requests per reading.
 */
async function measure(route: string, port: number, requests: number, send: (i: number) => Promise<boolean>): Promise<EdgeCostResult> {
  const pid = workerdPid(port);
  const idle = await idleCpuMsPerMs(pid, 1000);
  let failures = 0;
  const t0 = performance.now();
  const a = procUsage(pid).cpuMs;
  for (let i = 0; i < requests; i++) if (!(await send(i))) failures++;
  const cpu = procUsage(pid).cpuMs - a - idle * (performance.now() - t0);
  return { route, requests, cpuMsPerRequest: Math.round((cpu / requests) * 100) / 100, failures };
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
    return r.status === 200 && r.body.includes('<Connect>') && done.status < 300;
  });
}
