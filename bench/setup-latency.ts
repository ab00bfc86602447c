import { SessionStatus } from '@switchboard/protocol';
import { benchClientIp } from './stack/client-ip.ts';
import { makeOffer } from './stack/whip-offer.ts';
import { summary } from './stack/percentiles.ts';

export interface SetupResult {
  sessions: number;
  concurrency: number;
  /** WHIP POST sent -> 201 with the worker's answer received, ms. */
  whip: ReturnType<typeof summary>;
  /**
   * Where the time went, from the edge's session status (epoch ms, same host clock): POST sent ->
   * job queued; queued -> claimed by the worker; claimed -> 201 received (answer made and relayed).
   */
  phases: { toQueued: ReturnType<typeof summary>; queuedToClaimed: ReturnType<typeof summary>; claimedTo201: ReturnType<typeof summary> };
  failures: string[];
  /** Each session's status as the edge answered the DELETE (claim times, worker). */
  statuses: SessionStatus[];
}

/**
 * Session setup through the whole stack: `sessions` WHIP POSTs (`concurrency` in flight), each with
 * a fresh werift offer. Every offer is made and gathered before the first POST (unless
 * `offersAhead` is less than `sessions`: then that many are kept ready ahead), so the offering
 * peers' own work (a browser's, on another machine in real use) stays off the clock and off the
 * CPUs the stack shares here; each session is timed from the POST to the 201 carrying the worker's
 * answer (edge, Durable Object, queue, claim, werift answer). Each session is deleted right after,
 * so the worker's slots free up; the offering peers are closed once all are done (each as its
 * session ends, with fewer offers ahead). The caller's CPU window runs from `onClockStart` to
 * `onClockStop`.
 */
export async function measureSetup(
  edgeUrl: string,
  sessions: number,
  concurrency: number,
  opts: {
    /** Runs once every offer is ready, just before the first POST. */
    onClockStart?: () => void;
    /** Runs once the last session is deleted, before the offering peers are closed. */
    onClockStop?: () => void;
    /** Offers made ahead (default: all of them); fewer bounds the peers alive at once for long runs. */
    offersAhead?: number;
  } = {},
): Promise<SetupResult> {
  const { onClockStart, onClockStop, offersAhead = sessions } = opts;
  const times: number[] = [];
  const failures: string[] = [];
  const statuses: SessionStatus[] = [];
  const toQueued: number[] = [];
  const queuedToClaimed: number[] = [];
  const claimedTo201: number[] = [];
  const wall = () => performance.timeOrigin + performance.now();
  const ready: Promise<Awaited<ReturnType<typeof makeOffer>>>[] = [];
  let made = 0;
  const refill = () => {
    for (; made < sessions && ready.length < offersAhead; made++) ready.push(makeOffer());
  };
  refill();
  await Promise.all(ready);
  onClockStart?.();
  let taken = 0;
  const lane = async (): Promise<void> => {
    while (taken < sessions) {
      taken++;
      const offer = ready.shift()!;
      refill();
      const { sdp, pc } = await offer;
      try {
        const t0 = performance.now();
        const sentAt = wall();
        const res = await fetch(`${edgeUrl}/v1/sessions`, { method: 'POST', headers: { 'Content-Type': 'application/sdp', ...benchClientIp() }, body: sdp });
        const body = await res.text();
        const ms = performance.now() - t0;
        const receivedAt = wall();
        if (res.status !== 201) {
          failures.push(`${res.status} ${body.slice(0, 120)}`);
          continue;
        }
        times.push(ms);
        const location = res.headers.get('Location');
        if (!location) {
          failures.push('201 without Location');
          continue;
        }
        const ended = await fetch(`${edgeUrl}${location}`, { method: 'DELETE' });
        const status = SessionStatus.safeParse(await ended.json());
        if (status.success) {
          statuses.push(status.data);
          const { queuedAt, claimedAt } = status.data;
          if (queuedAt !== undefined && claimedAt !== undefined) {
            toQueued.push(queuedAt - sentAt);
            queuedToClaimed.push(claimedAt - queuedAt);
            claimedTo201.push(receivedAt - claimedAt);
          }
        }
        else failures.push(`DELETE ${ended.status}: not a session status`);
      } finally {
        if (deferClose) done.push(pc);
        else await pc.close();
      }
    }
  };
  // With every offer made ahead, the offering peers are closed after the run too: a browser's own
  // teardown happens on its machine, not on the CPUs this stack shares here. With fewer made
  // ahead, each is closed as its session ends, so that few stay alive.
  const deferClose = offersAhead >= sessions;
  const done: { close(): Promise<void> }[] = [];
  try {
    await Promise.all(Array.from({ length: concurrency }, lane));
    onClockStop?.();
  } finally {
    await Promise.all(done.map((pc) => pc.close()));
  }
  return {
    sessions,
    concurrency,
    whip: summary(times),
    phases: { toQueued: summary(toQueued), queuedToClaimed: summary(queuedToClaimed), claimedTo201: summary(claimedTo201) },
    failures,
    statuses,
  };
}
