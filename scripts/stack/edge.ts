import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { collectOutput } from './child-output.ts';
import { freePort, waitForHttp, wrapped } from './ports.ts';

export interface LocalEdge {
  url: string;
  port: number;
  /** ms from spawn to the first 200 from /healthz. */
  startupMs: number;
  stop(): Promise<void>;
  output(): string;
}

const WORKERS_DIR = resolve(import.meta.dirname, '../../workers');

export interface EdgeOptions {
  port?: number;
  vars: Record<string, string>;
  quiet?: boolean;
  /** Address it listens on (127.0.0.1). */
  ip?: string;
  /**
   * Command prefix wrangler runs under, e.g. `['ip', 'netns', 'exec', 'sb-core']` to run the edge
   * inside a network namespace (the health check then runs there too). Ports default to ones free
   * on the test process's 127.0.0.1, which a fresh namespace has free as well.
   */
  wrap?: string[];
}

/**
 * A RAM-backed directory for the edge's local state, if the machine has one. Each Durable Object
 * is a SQLite database that fsyncs every commit; with it on the disk-backed /tmp, those fsyncs
 * were a fifth of the local edge's CPU per session. The state is thrown away on stop anyway.
 */
export function memoryBackedDir(): string | undefined {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return undefined;
  }
}

/** The edge Worker under `wrangler dev` (workerd) on 127.0.0.1 (or `ip`), with `vars` as its environment. */
export async function startEdge(opts: EdgeOptions): Promise<LocalEdge> {
  const ip = opts.ip ?? '127.0.0.1';
  const port = opts.port ?? (await freePort());
  const inspector = await freePort();
  const persist = mkdtempSync(join(memoryBackedDir() ?? tmpdir(), 'sb-edge-'));
  const args = ['dev', '--ip', ip, '--port', String(port), '--inspector-port', String(inspector)];
  args.push('--persist-to', persist, '--show-interactive-dev-session=false', '--log-level', 'warn');
  for (const [k, v] of Object.entries(opts.vars)) args.push('--var', `${k}:${v}`);
  const started = Date.now();
  const [cmd, argv] = wrapped(opts.wrap, resolve(WORKERS_DIR, '../node_modules/.bin/wrangler'), args);
  const child: ChildProcess = spawn(cmd, argv, {
    cwd: WORKERS_DIR,
    // wrangler dev's local trace collector persists a span to SQLite for every event, WebSocket
    // messages included: with it on, workerd spends ~85% of its CPU there and ~10 phone calls
    // saturate it. Off unless the environment turns it (and the local explorer) back on.
    env: {
      X_LOCAL_OBSERVABILITY: 'false',
      X_LOCAL_EXPLORER: 'false',
      ...process.env,
      WRANGLER_SEND_METRICS: 'false',
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      CI: 'true',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return superviseEdge(child, { ip, port, started, quiet: opts.quiet, wrap: opts.wrap, stateDir: persist, name: 'wrangler' });
}

/**
 * The LocalEdge of an edge server running as `child` on ip:port: its output kept, ready once
 * /healthz answers 2xx (else stopped, with its output in the error), `stop` ending it with
 * SIGTERM and removing `stateDir`.
 */
export async function superviseEdge(
  child: ChildProcess,
  o: { ip: string; port: number; started: number; quiet?: boolean; wrap?: string[]; stateDir: string; name: string },
): Promise<LocalEdge> {
  const output = collectOutput(child, o.quiet ?? false);
  let alive = true;
  child.on('exit', () => (alive = false));
  const url = `http://${o.ip.includes(':') ? `[${o.ip}]` : o.ip}:${o.port}`;
  const stop = async () => {
    if (alive) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(o.stateDir, { recursive: true, force: true });
  };
  try {
    await waitForHttp(`${url}/healthz`, 60_000, () => alive, o.wrap);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${o.name} output:\n${output().slice(-4000)}`);
  }
  return { url, port: o.port, startupMs: Date.now() - o.started, stop, output };
}
