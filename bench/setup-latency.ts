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
 * a fresh werift offer made before the clock starts; timed from the POST to the 201 carrying the
 * worker's answer (edge, Durable Object, queue, claim, werift answer). Each session is deleted
 * right after, so the worker's slots free up; the offering peer is closed.
 */
export async function measureSetup(edgeUrl: string, sessions: number, concurrency: number): Promise<SetupResult> {
  const times: number[] = [];
  const failures: string[] = [];
  const statuses: SessionStatus[] = [];
  const toQueued: number[] = [];
  const queuedToClaimed: number[] = [];
  const claimedTo201: number[] = [];
  const wall = () => performance.timeOrigin + performance.now();
  let next = 0;
  const lane = async (): Promise<void> => {
    // The next offer is made while this session's request is in flight (gathering takes ~1 s).
    let upcoming = next < sessions ? makeOffer() : null;
    while (next < sessions && upcoming) {
      next++;
      const { sdp, pc } = await upcoming;
      upcoming = next < sessions ? makeOffer() : null;
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
        await pc.close();
      }
    }
    if (upcoming) await (await upcoming).pc.close();
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return {
    sessions,
    concurrency,
    whip: summary(times),
    phases: { toQueued: summary(toQueued), queuedToClaimed: summary(queuedToClaimed), claimedTo201: summary(claimedTo201) },
    failures,
    statuses,
  };
}
