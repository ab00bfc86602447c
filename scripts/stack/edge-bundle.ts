import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { collectOutput } from './child-output.ts';
import { memoryBackedDir, superviseEdge, type EdgeOptions, type LocalEdge } from './edge.ts';
import { freePort } from './ports.ts';

const WORKERS_DIR = resolve(import.meta.dirname, '../../workers');
const WRANGLER = resolve(WORKERS_DIR, '../node_modules/.bin/wrangler');
const SERVER = resolve(import.meta.dirname, 'edge-bundle-server.ts');

/**
 * `wrangler deploy --dry-run` into `outdir`: the bundle `wrangler deploy` would upload (top-level
 * environment). EDGE_NO_MINIFY=1 builds it unminified, for readable profiles.
 */
export function buildEdgeBundle(outdir: string): Promise<void> {
  return new Promise((ok, fail) => {
    const child = spawn(WRANGLER, ['deploy', '--dry-run', '--env=', '--outdir', outdir, ...(process.env['EDGE_NO_MINIFY'] ? ['--minify=false'] : [])], {
      cwd: WORKERS_DIR,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', CI: 'true', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = collectOutput(child, true);
    child.once('error', fail);
    child.once('exit', (code) => (code === 0 ? ok() : fail(new Error(`wrangler deploy --dry-run exited ${code}:\n${output().slice(-3000)}`))));
  });
}

/**
 * The edge as deployed: the bundle `wrangler deploy` builds, under workerd (Miniflare), serving
 * on 127.0.0.1 (or `ip`) itself. `wrangler dev` (edge.ts) puts a second workerd in front that
 * forwards every request and WebSocket to this one, for reloads on edit; production has no such
 * hop, and at 20 sessions set up at a time it was a fifth of the stack's CPU per session. The
 * benchmark runs this; `npm start` and the tests run wrangler dev. `wrap` is not supported here.
 */
export async function startEdgeBundle(opts: EdgeOptions): Promise<LocalEdge> {
  if (opts.wrap && opts.wrap.length > 0) throw new Error('startEdgeBundle runs on this host only (no wrap)');
  const ip = opts.ip ?? '127.0.0.1';
  const port = opts.port ?? (await freePort());
  const started = Date.now();
  // The bundle and the Durable Objects' SQLite files, on RAM when the machine has it (see
  // memoryBackedDir): on an ext4 /tmp, each new object's file open and each commit's fsync were
  // over a third of workerd's CPU per session, work production's storage does not do there.
  // TMPDIR points Miniflare's other scratch stores (its email store, say) there too.
  const root = mkdtempSync(join(memoryBackedDir() ?? tmpdir(), 'sb-edge-bundle-'));
  const outdir = join(root, 'bundle');
  const state = join(root, 'state');
  mkdirSync(state);
  try {
    await buildEdgeBundle(outdir);
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  const child = spawn(process.execPath, [SERVER], {
    env: { ...process.env, TMPDIR: state, EDGE_BUNDLE_DIR: outdir, EDGE_STATE_DIR: state, EDGE_VARS: JSON.stringify(opts.vars), EDGE_HOST: ip, EDGE_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return superviseEdge(child, { ip, port, started, quiet: opts.quiet, stateDir: root, name: 'edge' });
}
