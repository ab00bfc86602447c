import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { collectOutput } from '../../scripts/stack/child-output.ts';
import { memoryBackedDir } from '../../scripts/stack/edge.ts';
import { buildEdgeBundle } from '../../scripts/stack/edge-bundle.ts';
import { freePort, waitForHttp } from '../../scripts/stack/ports.ts';

/**
 * The edge as deployed (the `wrangler deploy` bundle under workerd, through Miniflare, see
 * scripts/stack/edge-bundle-server.ts) that a test can restart as a deploy does: the process is
 * stopped (SIGTERM: every WebSocket it holds closes, every Durable Object is gone from memory)
 * and started again on the same port with the same state directory, so the Durable Objects' storage
 * (one SQLite file per object) survives and each object wakes with its record.
 *
 * Clients reach it through a TCP front (`url`) that, like Cloudflare's front end during a deploy,
 * never refuses a connection: one made while the edge is down waits (up to FRONT_WAIT_MS) until
 * it is back. Connections open at the restart drop with it, as a deploy drops WebSockets.
 */
const FRONT_WAIT_MS = 30_000;

/** A TCP forwarder to 127.0.0.1:`backendPort` that retries the backend until it accepts. */
function startFront(backendPort: number): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    client.pause();
    const deadline = Date.now() + FRONT_WAIT_MS;
    const attempt = () => {
      const up = connect(backendPort, '127.0.0.1');
      up.once('connect', () => {
        sockets.add(up);
        up.on('close', () => {
          sockets.delete(up);
          client.destroy();
        });
        client.on('close', () => up.destroy());
        client.pipe(up);
        up.pipe(client);
        client.resume();
      });
      up.once('error', () => {
        if (client.destroyed) return;
        if (Date.now() > deadline) client.destroy();
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port, sockets })));
}
export interface RestartableEdge {
  url: string;
  port: number;
  /** Stops the edge and starts it again (same port behind the front, same state); resolves once /healthz answers, with ms down. */
  restart(): Promise<{ downMs: number; stoppedAt: number }>;
  stop(): Promise<void>;
  output(): string;
}

const SERVER = resolve(import.meta.dirname, '../../scripts/stack/edge-bundle-server.ts');

export async function startRestartableEdge(vars: (url: string) => Record<string, string>): Promise<RestartableEdge> {
  const backendPort = await freePort();
  const front = await startFront(backendPort);
  const port = front.port;
  const url = `http://127.0.0.1:${port}`;
  const root = mkdtempSync(join(memoryBackedDir() ?? tmpdir(), 'sb-edge-restart-'));
  const outdir = join(root, 'bundle');
  const state = join(root, 'state');
  mkdirSync(state);
  await buildEdgeBundle(outdir);
  const env = { ...process.env, TMPDIR: state, EDGE_BUNDLE_DIR: outdir, EDGE_STATE_DIR: state, EDGE_VARS: JSON.stringify(vars(url)), EDGE_HOST: '127.0.0.1', EDGE_PORT: String(backendPort) };
  let child: ChildProcess;
  let output: () => string = () => '';
  let alive = false;
  const launch = async () => {
    child = spawn(process.execPath, [SERVER], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    output = collectOutput(child, true);
    alive = true;
    child.once('exit', () => (alive = false));
    await waitForHttp(`http://127.0.0.1:${backendPort}/healthz`, 60_000, () => alive);
  };
  const halt = async () => {
    if (!alive) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  await launch();
  return {
    url,
    port,
    output: () => output(),
    async restart() {
      const stoppedAt = performance.now();
      await halt();
      await launch();
      return { downMs: performance.now() - stoppedAt, stoppedAt };
    },
    async stop() {
      await halt();
      for (const s of front.sockets) s.destroy();
      await new Promise((r) => front.server.close(r));
      rmSync(root, { recursive: true, force: true });
    },
  };
}
