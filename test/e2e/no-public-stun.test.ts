import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from '../support/inject.ts';
import { loadHandler } from '../../media-worker/src/handlers/load.ts';
import { createMetrics } from '../../media-worker/src/http/metrics.ts';
import { createVadFactory } from '../../media-worker/src/vad/factory.ts';
import { MediaWorker } from '../../media-worker/src/worker.ts';
import { RtcTestClient } from '../support/rtc-client.ts';
import { e2eWorkerConfig } from '../support/worker-config.ts';

const edge = inject('edgeUrl');
let worker: MediaWorker;
const destinations = new Set<string>();
const originalSend = dgram.Socket.prototype.send;

beforeAll(async () => {
  // Records where every UDP datagram of this process goes (worker and client peers both live here).
  dgram.Socket.prototype.send = function (this: dgram.Socket, ...args: unknown[]) {
    const host = args.find((a, i) => i > 0 && typeof a === 'string' && !/^\d+$/.test(a)) as string | undefined;
    destinations.add(host ?? '(connected)');
    return (originalSend as (...a: unknown[]) => void).apply(this, args);
  } as typeof dgram.Socket.prototype.send;
  worker = new MediaWorker(e2eWorkerConfig({ WORKER_ID: 'w-no-stun' }), await loadHandler('echo'), await createVadFactory(), createMetrics(), () => {});
  worker.start();
});

afterAll(async () => {
  dgram.Socket.prototype.send = originalSend;
  await worker.drain(2000);
});

describe('a call with no ICE servers configured (TURN_PROVIDER=none)', () => {
  it('never looks up a public STUN server: every UDP datagram goes to loopback', async () => {
    const client = await RtcTestClient.connect(edge);
    await client.silence(300);
    expect(await client.hangup()).toBe(200);
    expect(destinations.size).toBeGreaterThan(0);
    expect([...destinations].filter((d) => !d.startsWith('127.'))).toEqual([]);
  });
});
