/**
 * List prices and the arithmetic that turns a phone call-minute's measured resources into dollars
 * per 1,000 call-minutes (bench/phone-minute.ts measures; this only prices).
 */

/** List prices (USD), us-east-1 and Cloudflare Workers Paid, as the README's cost table uses them. */
export const PRICES = {
  /** developers.cloudflare.com/durable-objects/platform/pricing: $12.50 per million GB-s of duration, billed at 128 MB per object. */
  doDurationPerGbS: 12.5 / 1e6,
  doMemoryGb: 0.125,
  /** Same page: $0.15 per million requests; incoming WebSocket messages count 20:1 (outgoing ones are free). */
  doRequest: 0.15 / 1e6,
  wsIncomingPerRequest: 20,
  /** developers.cloudflare.com/workers/platform/pricing (Standard): $0.30 per million requests, $0.02 per million CPU-ms. */
  workerRequest: 0.3 / 1e6,
  workerCpuMs: 0.02 / 1e6,
  /** aws.amazon.com/ec2/pricing/on-demand (data transfer out to the internet, first 10 TB): $0.09 per GB. */
  awsEgressPerGb: 0.09,
  /** aws.amazon.com/fargate/pricing (Linux x86): $0.04048 per vCPU-hour, $0.004445 per GB-hour; a task is 1 vCPU + 2 GiB. */
  fargateTaskHour: 0.04048 + 2 * 0.004445,
  /** aws.amazon.com/vpc/pricing (public IPv4 addresses): $0.005 per address-hour, one per task. */
  ipv4TaskHour: 0.005,
} as const;

/** Assumptions that are not prices. */
export const ASSUME = {
  /** The worker's CPU a task is run at (the rest is headroom for bursts and the event loop's timing). */
  targetCpuFraction: 0.7,
  /** Mean call length over which a call's one-off costs (webhooks, set-up, hang-up) are spread, as the README's ~333 three-minute calls. */
  callMinutes: 3,
  /**
   * Bytes a worker -> edge WebSocket message costs on the internet beyond its frame: a TLS 1.3
   * record (5-byte header, 1-byte type, 16-byte tag) and TCP/IPv4 headers with timestamps (52),
   * one segment per message (ws sets TCP_NODELAY: a 20 ms frame is never coalesced with the next).
   */
  wireOverheadBytes: 22 + 52,
} as const;

/** What one call-minute uses, as measured (steady state), and a call's one-off part. */
export interface MinuteUsage {
  /** workerd CPU per call-minute, idle subtracted (Worker + Durable Object: one process locally). */
  edgeCpuMs: number;
  workerCpuMs: number;
  /** WebSocket messages into the edge per call-minute: from the provider, and from the worker (media + control sockets). */
  providerMessagesIn: number;
  workerMessagesIn: number;
  /** worker -> edge bytes per call-minute on the internet (frames + TLS/TCP/IP overhead). */
  workerBytesOut: number;
  /** Per call, once: HTTP requests to the Worker (webhooks, upgrades) and the CPU of set-up and hang-up. */
  perCall: { httpRequests: number; edgeCpuMs: number; workerCpuMs: number };
}

export interface CostLine {
  item: string;
  arithmetic: string;
  /** USD per 1,000 call-minutes. */
  usd: number;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;
const k = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(0));

/** Dollars per 1,000 call-minutes, item by item; one-off parts are spread over ASSUME.callMinutes. */
export function costPer1000Minutes(u: MinuteUsage): { lines: CostLine[]; total: number; totalWithoutDoCpu: number; callsPerVcpu: number } {
  const per = (x: number, once: number) => 1000 * (x + once / ASSUME.callMinutes);
  const msgs = per(u.providerMessagesIn + u.workerMessagesIn, 0);
  const edgeCpu = per(u.edgeCpuMs, u.perCall.edgeCpuMs);
  const workerCpu = per(u.workerCpuMs, u.perCall.workerCpuMs) / 1000; // per call-minute
  const callsPerVcpu = (ASSUME.targetCpuFraction * 60_000) / Math.max(workerCpu, 1e-9);
  const taskMinutesPer1000 = 1000 / callsPerVcpu;
  const bytes = per(u.workerBytesOut, 0);
  const lines: CostLine[] = [
    { item: 'DO duration (awake all call, 128 MB)', arithmetic: `1,000 min x 60 s x ${PRICES.doMemoryGb} GB = 7,500 GB-s`, usd: 1000 * 60 * PRICES.doMemoryGb * PRICES.doDurationPerGbS },
    { item: 'DO WebSocket messages in (20:1)', arithmetic: `${k(msgs)} msgs / ${PRICES.wsIncomingPerRequest} = ${k(msgs / PRICES.wsIncomingPerRequest)} requests`, usd: (msgs / PRICES.wsIncomingPerRequest) * PRICES.doRequest },
    { item: 'Worker requests (webhooks, upgrades)', arithmetic: `${k(per(0, u.perCall.httpRequests))} requests`, usd: per(0, u.perCall.httpRequests) * PRICES.workerRequest },
    { item: 'edge CPU (at Worker CPU price)', arithmetic: `${k(edgeCpu)} CPU-ms`, usd: edgeCpu * PRICES.workerCpuMs },
    { item: 'AWS egress worker -> edge', arithmetic: `${(bytes / 1e9).toFixed(3)} GB`, usd: (bytes / 1e9) * PRICES.awsEgressPerGb },
    { item: `Fargate task (${callsPerVcpu.toFixed(0)} calls at ${ASSUME.targetCpuFraction * 100}% of 1 vCPU)`, arithmetic: `${taskMinutesPer1000.toFixed(1)} task-min`, usd: (taskMinutesPer1000 / 60) * PRICES.fargateTaskHour },
    { item: 'public IPv4 per task', arithmetic: `${taskMinutesPer1000.toFixed(1)} task-min`, usd: (taskMinutesPer1000 / 60) * PRICES.ipv4TaskHour },
  ].map((l) => ({ ...l, usd: r3(l.usd) }));
  const total = r3(lines.reduce((a, l) => a + l.usd, 0));
  // Durable Objects bill requests and duration, not CPU: only the Worker's part of the edge CPU is billed as CPU.
  const totalWithoutDoCpu = r3(total - (lines[3]?.usd ?? 0) + r3(per(0, u.perCall.edgeCpuMs) * PRICES.workerCpuMs));
  return { lines, total, totalWithoutDoCpu, callsPerVcpu: Math.round(callsPerVcpu * 10) / 10 };
}
