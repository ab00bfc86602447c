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
  /**
   * What the session's object kept pending at the start of each call before it cleared its start
   * deadline on `start` (media-relay.ts START_TIMEOUT_MS, a 10 s setTimeout never cleared): the
   * object was not eligible for hibernation, so billed for duration, for this long per call.
   */
  uneligibleBeforeFixMs: 10_000,
} as const;

/**
 * The duration model. DURATION_DOC: "Durable Objects are billed for compute duration (wall-clock
 * time) while the Durable Object is actively running or is idle in memory but unable to hibernate.
 * Durable Objects that are idle and eligible for hibernation are not billed for duration, even
 * before the runtime has hibernated them." A phone call's object is eligible between messages
 * (hibernatable sockets only, no timer or awaited I/O pending once the stream has started), so its
 * billed duration is its active time, which the bench cannot see inside workerd. Assumed: the
 * active time is the edge's (workerd's) CPU time during the calls (steady, per call-minute), plus,
 * once per call, the edge's one-off CPU and the wall time of every HTTP request and WebSocket
 * handshake at the edge (the awaits inside handlers: a voice webhook waiting for the claim, storage
 * and queue writes). Both count a request's CPU twice, and the Worker's CPU as the object's: an
 * upper bound on the object's active time.
 */
export const DURATION_DOC = 'developers.cloudflare.com/durable-objects/platform/pricing';

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
  /**
   * Per call, once: HTTP requests to the Worker (webhooks, upgrades), the CPU of set-up and
   * hang-up, and the requests' wall time at the edge (awaits inside their handlers included).
   */
  perCall: { httpRequests: number; edgeCpuMs: number; workerCpuMs: number; requestWallMs: number };
}

export interface CostLine {
  item: string;
  arithmetic: string;
  /** USD per 1,000 call-minutes. */
  usd: number;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;
const k = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(0));
const gbS = (activeS: number) => activeS * PRICES.doMemoryGb;

/**
 * Dollars per 1,000 call-minutes, item by item; one-off parts are spread over ASSUME.callMinutes.
 * `lines` add up to `total`. `comparison`, each with the total it gives in place of the lines it
 * replaces: the old model (the object awake the whole call, all edge CPU at the Worker CPU price,
 * in place of the duration and Worker CPU lines), and the duration as billed before the start
 * deadline was cleared on `start` (in place of the duration line).
 */
export function costPer1000Minutes(u: MinuteUsage): {
  lines: CostLine[];
  total: number;
  comparison: Array<CostLine & { total: number }>;
  activeMsPerMinute: number;
  callsPerVcpu: number;
} {
  const per = (x: number, once: number) => 1000 * (x + once / ASSUME.callMinutes);
  const msgs = per(u.providerMessagesIn + u.workerMessagesIn, 0);
  // Each webhook and each upgrade reaches the session's object once (an RPC or its fetch): a DO request each.
  const rpcs = per(0, u.perCall.httpRequests);
  const doRequests = msgs / PRICES.wsIncomingPerRequest + rpcs;
  const activeMsPerMinute = u.edgeCpuMs + (u.perCall.edgeCpuMs + u.perCall.requestWallMs) / ASSUME.callMinutes;
  // Seconds active per 1,000 call-minutes: 1,000 x ms per minute / 1,000.
  const activeS = activeMsPerMinute;
  // Durable Objects bill requests and duration, not CPU; the stateless Worker's CPU is its webhooks' and upgrades' (one-off).
  const workerCpuMsEdge = per(0, u.perCall.edgeCpuMs);
  const workerCpu = per(u.workerCpuMs, u.perCall.workerCpuMs) / 1000; // per call-minute
  const callsPerVcpu = (ASSUME.targetCpuFraction * 60_000) / Math.max(workerCpu, 1e-9);
  const taskMinutesPer1000 = 1000 / callsPerVcpu;
  const bytes = per(u.workerBytesOut, 0);
  const lines: CostLine[] = [
    {
      item: 'DO duration (active only, 128 MB)',
      arithmetic: `${activeS.toFixed(0)} s active (${activeMsPerMinute.toFixed(0)} ms/min) x ${PRICES.doMemoryGb} GB = ${gbS(activeS).toFixed(1)} GB-s`,
      usd: gbS(activeS) * PRICES.doDurationPerGbS,
    },
    {
      item: 'DO requests (WS msgs in 20:1, + RPCs)',
      arithmetic: `${k(msgs)} msgs / ${PRICES.wsIncomingPerRequest} + ${k(rpcs)} RPCs = ${k(doRequests)} requests`,
      usd: doRequests * PRICES.doRequest,
    },
    { item: 'Worker requests (webhooks, upgrades)', arithmetic: `${k(rpcs)} requests`, usd: rpcs * PRICES.workerRequest },
    { item: 'Worker CPU (webhooks, upgrades; DO CPU unbilled)', arithmetic: `${k(workerCpuMsEdge)} CPU-ms (one-off edge CPU per call)`, usd: workerCpuMsEdge * PRICES.workerCpuMs },
    { item: 'AWS egress worker -> edge', arithmetic: `${(bytes / 1e9).toFixed(3)} GB`, usd: (bytes / 1e9) * PRICES.awsEgressPerGb },
    { item: `Fargate task (${callsPerVcpu.toFixed(0)} calls at ${ASSUME.targetCpuFraction * 100}% of 1 vCPU)`, arithmetic: `${taskMinutesPer1000.toFixed(1)} task-min`, usd: (taskMinutesPer1000 / 60) * PRICES.fargateTaskHour },
    { item: 'public IPv4 per task', arithmetic: `${taskMinutesPer1000.toFixed(1)} task-min`, usd: (taskMinutesPer1000 / 60) * PRICES.ipv4TaskHour },
  ].map((l) => ({ ...l, usd: r3(l.usd) }));
  const total = r3(lines.reduce((a, l) => a + l.usd, 0));
  const duration = lines[0]!.usd;
  const beforeS = activeS + per(0, ASSUME.uneligibleBeforeFixMs / 1000);
  const allEdgeCpuMs = per(u.edgeCpuMs, u.perCall.edgeCpuMs);
  const comparison = [
    // The old model: the object awake the whole call, and all the edge's CPU billed at the Worker CPU price.
    {
      item: 'old model: DO awake all call + all edge CPU at Worker price',
      arithmetic: `7,500 GB-s + ${k(allEdgeCpuMs)} CPU-ms`,
      usd: r3(1000 * 60 * gbS(1) * PRICES.doDurationPerGbS + allEdgeCpuMs * PRICES.workerCpuMs),
      total: r3(total - duration - lines[3]!.usd + 1000 * 60 * gbS(1) * PRICES.doDurationPerGbS + allEdgeCpuMs * PRICES.workerCpuMs),
    },
    {
      item: `DO duration before the fix (+${ASSUME.uneligibleBeforeFixMs / 1000} s/call start timer)`,
      arithmetic: `${beforeS.toFixed(0)} s x ${PRICES.doMemoryGb} GB = ${gbS(beforeS).toFixed(1)} GB-s`,
      usd: r3(gbS(beforeS) * PRICES.doDurationPerGbS),
      total: r3(total - duration + gbS(beforeS) * PRICES.doDurationPerGbS),
    },
  ];
  return { lines, total, comparison, activeMsPerMinute: Math.round(activeMsPerMinute * 10) / 10, callsPerVcpu: Math.round(callsPerVcpu * 10) / 10 };
}
