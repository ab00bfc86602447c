/**
 * Serves a `wrangler deploy` bundle of the edge under workerd through Miniflare, on
 * EDGE_HOST:EDGE_PORT, with the bindings wrangler.jsonc declares (Durable Object, rate limiter)
 * and EDGE_VARS (a JSON object) as its variables. Prints `ready <url>` once it serves; SIGTERM
 * disposes of it. Run by edge-bundle.ts in a process of its own, so that its controller's CPU is
 * not the caller's.
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';

const dir = process.env['EDGE_BUNDLE_DIR'];
if (!dir) throw new Error('EDGE_BUNDLE_DIR is required (a `wrangler deploy --outdir` directory)');
const vars: unknown = JSON.parse(process.env['EDGE_VARS'] ?? '{}');
if (typeof vars !== 'object' || vars === null || Object.values(vars).some((v) => typeof v !== 'string')) {
  throw new Error('EDGE_VARS must be a JSON object of strings');
}
const config = resolve(import.meta.dirname, '../../workers/wrangler.jsonc');
const { workerOptions } = unstable_getMiniflareWorkerOptions(config);
// The bundle's entry and the text modules it imports (the demo page's files); not its source map.
const modules = [
  { type: 'ESModule' as const, path: join(dir, 'index.js') },
  ...readdirSync(dir)
    .filter((f) => f !== 'index.js' && f !== 'README.md' && !f.endsWith('.map'))
    .map((f) => ({ type: 'Text' as const, path: join(dir, f) })),
];
const mf = new Miniflare(
  convertV4MiniflareOptions({
    ...workerOptions,
    modules,
    modulesRoot: dir,
    bindings: { ...(workerOptions.bindings ?? {}), ...(vars as Record<string, string>) },
    host: process.env['EDGE_HOST'] ?? '127.0.0.1',
    port: Number(process.env['EDGE_PORT'] ?? 0),
    // Durable Object state (one SQLite file per object) and Miniflare's scratch files in
    // EDGE_STATE_DIR, which the caller removes on stop; unset, both go to the OS temporary directory.
    ...(process.env['EDGE_STATE_DIR'] ? { resourcePersistencePath: process.env['EDGE_STATE_DIR'], resourceTmpPath: process.env['EDGE_STATE_DIR'] } : {}),
    // For profiling (Chrome DevTools protocol): unset, no inspector.
    ...(process.env['EDGE_INSPECTOR_PORT'] ? { inspectorPort: Number(process.env['EDGE_INSPECTOR_PORT']) } : {}),
  } as Parameters<typeof convertV4MiniflareOptions>[0]),
);
const url = await mf.ready;
process.stdout.write(`ready ${String(url)}\n`);
process.once('SIGTERM', () => {
  void mf.dispose().finally(() => process.exit(0));
});
