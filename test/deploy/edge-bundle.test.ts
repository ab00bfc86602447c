import { readdirSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { edgeProcesses } from '../../bench/stack/edge-processes.ts';
import { edgeVarsFromEnv } from '../../scripts/stack/config.ts';
import { startEdgeBundle } from '../../scripts/stack/edge-bundle.ts';
import type { LocalEdge } from '../../scripts/stack/edge.ts';

// The benchmark's edge: the `wrangler deploy` bundle under workerd, no wrangler dev proxy in front.
describe('the deployed edge bundle under workerd (scripts/stack/edge-bundle.ts)', () => {
  let edge: LocalEdge;
  beforeAll(async () => {
    // No queue behind it: these requests never reach the point of queueing a job.
    edge = await startEdgeBundle({ vars: edgeVarsFromEnv({}, { SQS_QUEUE_URL: 'http://127.0.0.1:9/queue/none', SQS_ENDPOINT: 'http://127.0.0.1:9' }), quiet: true });
  }, 90_000);
  afterAll(async () => {
    await edge?.stop();
  });

  it('serves the Worker itself, one workerd on the port with no proxy in front', async () => {
    expect((await fetch(`${edge.url}/healthz`)).status).toBe(200);
    const p = edgeProcesses(edge.port);
    expect(p.proxy).toBeUndefined();
    expect(p.runtime).toBeGreaterThan(0);
  });

  it('runs the bundle with its bindings and variables: the demo page (text modules) and a rejected offer', async () => {
    const page = await fetch(`${edge.url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
    const bad = await fetch(`${edge.url}/v1/sessions`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: 'not an offer' });
    expect(bad.status).toBe(400);
  });

  it('keeps Durable Object storage on RAM: the SQLite files workerd opens are under /dev/shm', async () => {
    // The rate limiter (a SQLite-backed object under Miniflare) runs before the offer is read.
    await (await fetch(`${edge.url}/v1/sessions`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: 'x' })).text();
    const { runtime } = edgeProcesses(edge.port);
    const open = readdirSync(`/proc/${runtime}/fd`).flatMap((fd) => {
      try {
        return [readlinkSync(`/proc/${runtime}/fd/${fd}`)];
      } catch {
        return [];
      }
    });
    const sqlite = open.filter((f) => f.endsWith('.sqlite'));
    expect(sqlite.length).toBeGreaterThan(0);
    for (const f of sqlite) expect(f).toMatch(/^\/dev\/shm\/sb-edge-bundle-[^/]+\/state\//);
  });
});
