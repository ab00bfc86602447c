import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { unstable_readConfig } from 'wrangler';

const WORKERS = fileURLToPath(new URL('../../workers/', import.meta.url));
const WRANGLER = fileURLToPath(new URL('../../node_modules/.bin/wrangler', import.meta.url));
// Cloudflare's limit on a Worker's compressed size on the Free plan (the Paid plan allows 10 MB).
const FREE_PLAN_LIMIT_BYTES = 3 * 1024 * 1024;

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('wrangler deploy --dry-run --env production', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('bundles the production edge with its Durable Object and rate limiter, warning-free and under the size limit', async () => {
    const outdir = await mkdtemp(join(tmpdir(), 'sb-wrangler-'));
    dirs.push(outdir);
    const { code, out } = await run(WRANGLER, ['deploy', '--dry-run', '--env', 'production', '--outdir', outdir], WORKERS);
    expect(code, out).toBe(0);
    expect(out).not.toMatch(/WARNING|ERROR/);
    expect(out).toMatch(/env\.CALL_SESSION \(CallSession\)\s+Durable Object/);
    expect(out).toMatch(/env\.CLIENT_SESSIONS \(ClientSessions\)\s+Durable Object/);
    expect(out).toMatch(/env\.CREATE_LIMITER \(120 requests\/60s\)\s+Rate Limit/);
    expect(out).toMatch(/env\.ICE_LIMITER \(\d+ requests\/60s\)\s+Rate Limit/);
    expect(out).toMatch(/env\.API_KEY_LIMITER \(\d+ requests\/60s\)\s+Rate Limit/);
    expect(out).toMatch(/env\.EDGE_ENV \("production"\)\s+Environment Variable/);

    const bundle = await readFile(join(outdir, 'index.js'));
    expect((await stat(join(outdir, 'index.js'))).size).toBeGreaterThan(10_000);
    expect(gzipSync(bundle).length).toBeLessThan(FREE_PLAN_LIMIT_BYTES);
    // The Durable Object class the binding names is exported by the bundle.
    expect(bundle.toString()).toMatch(/export\s*\{[^}]*\bCallSession\b/);
    expect(bundle.toString()).toMatch(/export\s*\{[^}]*\bClientSessions\b/);
  }, 60_000);

  it('deploys production as switchboard-edge; the top level (local) cannot be mistaken for it', () => {
    const prod = unstable_readConfig({ config: join(WORKERS, 'wrangler.jsonc'), env: 'production' });
    expect(prod.name).toBe('switchboard-edge');
    // AUTH_MODE comes with the secrets (Terraform edge_secrets); EDGE_ENV makes the edge refuse to run without it.
    expect(prod.vars['EDGE_ENV']).toBe('production');
    expect(prod.vars['AUTH_MODE']).toBeUndefined();
    expect(prod.migrations.map((m: { tag: string }) => m.tag)).toEqual(['v1', 'v2']);
    const local = unstable_readConfig({ config: join(WORKERS, 'wrangler.jsonc') });
    expect(local.name).toBe('switchboard-edge-dev');
    expect(local.workers_dev).toBe(false);
    // Both declare the same Durable Objects, migrations and rate limiters (bindings are not inherited).
    expect(local.durable_objects.bindings).toEqual(prod.durable_objects.bindings);
    expect(local.migrations).toEqual(prod.migrations);
    expect(local.ratelimits).toEqual(prod.ratelimits);
  });

  it('npm run deploy deploys the production environment', async () => {
    const root = JSON.parse(await readFile(join(WORKERS, '../package.json'), 'utf8')) as { scripts: Record<string, string> };
    const edge = JSON.parse(await readFile(join(WORKERS, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(root.scripts['deploy']).toBe('bash scripts/run.sh npm run deploy -w workers');
    expect(edge.scripts['deploy']).toBe('wrangler deploy --env production');
  });
});
