import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { collectOutput } from './child-output.ts';
import { freePort, waitForHttp } from './ports.ts';

export interface LocalEdge {
  url: string;
  port: number;
  /** ms from spawn to the first 200 from /healthz. */
  startupMs: number;
  stop(): Promise<void>;
  output(): string;
}

const WORKERS_DIR = resolve(import.meta.dirname, '../../workers');

/** The edge Worker under `wrangler dev` (workerd) on 127.0.0.1, with `vars` as its environment. */
export async function startEdge(opts: { port?: number; vars: Record<string, string>; quiet?: boolean }): Promise<LocalEdge> {
  const port = opts.port ?? (await freePort());
  const inspector = await freePort();
  const persist = mkdtempSync(join(tmpdir(), 'sb-edge-'));
  const args = ['dev', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspector)];
  args.push('--persist-to', persist, '--show-interactive-dev-session=false', '--log-level', 'warn');
  for (const [k, v] of Object.entries(opts.vars)) args.push('--var', `${k}:${v}`);
  const started = Date.now();
  const child: ChildProcess = spawn(resolve(WORKERS_DIR, '../node_modules/.bin/wrangler'), args, {
    cwd: WORKERS_DIR,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', CI: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = collectOutput(child, opts.quiet ?? false);
  let alive = true;
  child.on('exit', () => (alive = false));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (alive) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(persist, { recursive: true, force: true });
  };
  try {
    await waitForHttp(`${url}/healthz`, 60_000, () => alive);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\nwrangler output:\n${output().slice(-4000)}`);
  }
  return { url, port, startupMs: Date.now() - started, stop, output };
}
