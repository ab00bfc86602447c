/**
 * Bundles the browser SDK (src/web) into one minified ES module with esbuild:
 * `node client/scripts/bundle.ts <out.js>` writes it (the edge serves it to the demo page as
 * `/client.js`); `bundleWebClient()` returns it with its gzipped size (the size-budget test).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const ENTRY = resolve(import.meta.dirname, '../src/web/index.ts');

export async function bundleWebClient(entry = ENTRY): Promise<{ code: string; bytes: number; gzipBytes: number }> {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    write: false,
    legalComments: 'none',
  });
  const code = out.outputFiles[0]!.text;
  return { code, bytes: Buffer.byteLength(code), gzipBytes: gzipSync(code, { level: 9 }).length };
}

if (import.meta.main) {
  const target = process.argv[2];
  if (!target) throw new Error('usage: node client/scripts/bundle.ts <out.js>');
  const { code, gzipBytes } = await bundleWebClient();
  mkdirSync(dirname(resolve(target)), { recursive: true });
  writeFileSync(resolve(target), `// @switchboard/client, bundled by client/scripts/bundle.ts\n${code}`);
  console.log(`[switchboard] browser SDK bundled: ${target} (${(gzipBytes / 1024).toFixed(1)} KiB min+gzip)`);
}
