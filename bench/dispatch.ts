import { summary } from './stack/percentiles.ts';
import { measureSetup } from './setup-latency.ts';
import { sampleSum, scrapeMetrics } from './stack/prom-text.ts';

export interface DispatchResult {
  jobs: number;
  workers: number;
  /** Job queued at the edge -> claim accepted by the Durable Object, ms (edge clock). */
  claim: ReturnType<typeof summary>;
  /** Sessions claimed by each worker. */
  perWorker: Record<string, number>;
  /** Accepted claims over all workers minus sessions: anything but 0 is a double claim. */
  doubleClaims: number;
  /** Duplicate deliveries the edge refused (409): harmless, counted for information. */
  refusedDuplicates: number;
  failures: string[];
}

/** Sums a Prometheus counter's samples whose labels match, over several workers' /metrics. */
async function counterSum(workerUrls: string[], name: string, label: RegExp): Promise<number> {
  let sum = 0;
  for (const url of workerUrls) sum += sampleSum(await scrapeMetrics(url), name, label);
  return sum;
}

/**
 * Dispatch: `jobs` sessions through the edge and the queue to several worker processes (`concurrency`
 * at a time), each deleted as soon as it is answered. Claim latency comes from the edge's own record
 * of each session (queuedAt -> claimedAt); double claims from the workers' accepted-claim counters.
 */
export async function measureDispatch(edgeUrl: string, workerUrls: string[], jobs: number, concurrency: number): Promise<DispatchResult> {
  const acceptedBefore = await counterSum(workerUrls, 'switchboard_claims_total', /outcome="claimed"/);
  const refusedBefore = await counterSum(workerUrls, 'switchboard_claims_total', /outcome="refused_409"/);
  // At most 200 offering peers alive at once: later offers are made while earlier jobs run.
  const r = await measureSetup(edgeUrl, jobs, concurrency, { offersAhead: 200 });
  const accepted = (await counterSum(workerUrls, 'switchboard_claims_total', /outcome="claimed"/)) - acceptedBefore;
  const refused = (await counterSum(workerUrls, 'switchboard_claims_total', /outcome="refused_409"/)) - refusedBefore;
  const claim: number[] = [];
  const perWorker: Record<string, number> = {};
  for (const s of r.statuses) {
    if (s.queuedAt !== undefined && s.claimedAt !== undefined) claim.push(s.claimedAt - s.queuedAt);
    if (s.workerId) perWorker[s.workerId] = (perWorker[s.workerId] ?? 0) + 1;
  }
  return {
    jobs,
    workers: workerUrls.length,
    claim: summary(claim),
    perWorker,
    doubleClaims: accepted - r.statuses.length,
    refusedDuplicates: refused,
    failures: r.failures,
  };
}
