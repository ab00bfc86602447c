import { SELF } from 'cloudflare:test';
import type { WorkerEndReason } from '@switchboard/protocol';
import { beforeEach, describe, expect, it } from 'vitest';
import { drainQueue, nextJob } from './support/sqs.ts';
import { ANSWER, chromeOffer } from '../../test/fixtures/sdp.ts';
import { claim } from './support/worker-client.ts';

const EDGE = 'http://edge.test';

beforeEach(drainQueue);

/** A live WebRTC session claimed by a test worker; the worker then sends `end`. */
async function endedBy(end: { reason?: WorkerEndReason; detail?: string }) {
  const pending = SELF.fetch(`${EDGE}/v1/sessions`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: chromeOffer() });
  const job = await nextJob();
  const c = await claim(job);
  await c.inbox.next();
  c.send({ type: 'answer', sdp: ANSWER });
  await pending;
  c.send({ type: 'end', ...end });
  let status: { state?: string; reason?: string; detail?: string } = {};
  await expect
    .poll(async () => (status = await (await SELF.fetch(`${EDGE}/v1/sessions/${job.sessionId}/status`)).json()))
    .toMatchObject({ state: 'ended' });
  return status;
}

describe("the worker's end reason at the edge", () => {
  it("ends the session with reason 'abuse' when the worker ends it for abuse", async () => {
    expect(await endedBy({ reason: 'abuse', detail: 'more than 50 messages/s' })).toMatchObject({ reason: 'abuse', detail: 'more than 50 messages/s' });
  });

  it("ends it as 'worker_ended' with the worker's reason and detail for any other reason", async () => {
    expect(await endedBy({ reason: 'ice_failed', detail: 'no pair' })).toMatchObject({ reason: 'worker_ended', detail: 'ice_failed: no pair' });
    expect(await endedBy({ reason: 'handler_closed' })).toMatchObject({ reason: 'worker_ended', detail: 'handler_closed' });
  });
});
