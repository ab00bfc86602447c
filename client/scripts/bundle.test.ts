import { describe, expect, it } from 'vitest';
import { bundleWebClient } from './bundle.ts';

/** The budget the SDK is held to: what a page pays to embed a call. */
const BUDGET_BYTES = 12 * 1024;

describe('the browser SDK bundle', () => {
  it(`is one self-contained ES module under ${BUDGET_BYTES / 1024} KiB min+gzip`, async () => {
    const { code, bytes, gzipBytes } = await bundleWebClient();
    console.log(`[client] browser SDK: ${bytes} bytes minified, ${gzipBytes} bytes min+gzip (budget ${BUDGET_BYTES})`);
    expect(gzipBytes).toBeLessThan(BUDGET_BYTES);
    // No runtime dependency: nothing is left to import, and the protocol's schemas (zod) are types only.
    expect(code).not.toMatch(/\bimport\s*[{*\w]|\bimport\(|require\(/);
    expect(code).not.toContain('zod');
    expect(code).toMatch(/export\{[^}]*\bconnect\b/);
  });
});
