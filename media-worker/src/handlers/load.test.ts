import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { isHandler, loadHandler } from './load.ts';

const dir = mkdtempSync(join(tmpdir(), 'handler-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const replyOnPauseUrl = new URL('./reply-on-pause.ts', import.meta.url).href;
const write = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('loadHandler', () => {
  it('loads the demos by name, echo by default', async () => {
    const echo = await loadHandler('echo');
    expect(echo.kind).toBe('reply-on-pause');
    expect(await loadHandler()).toBe(echo);
    expect(await loadHandler('  ')).toBe(echo);
    expect((await loadHandler('tone')).kind).toBe('reply-on-pause');
    expect((await loadHandler('assistant')).kind).toBe('reply-on-pause');
  });

  it('loads the OpenAI demo only with OPENAI_API_KEY, and names the variable when it is missing', async () => {
    const key = process.env['OPENAI_API_KEY'];
    delete process.env['OPENAI_API_KEY'];
    try {
      await expect(loadHandler('openai')).rejects.toThrow(/^HANDLER=openai: OPENAI_API_KEY is not set/);
      process.env['OPENAI_API_KEY'] = 'sk-test';
      vi.resetModules();
      const { loadHandler: fresh } = await import('./load.ts');
      expect((await fresh('openai')).kind).toBe('stream');
    } finally {
      if (key === undefined) delete process.env['OPENAI_API_KEY'];
      else process.env['OPENAI_API_KEY'] = key;
    }
  });

  it('loads a .ts module (default export) by absolute or cwd-relative path', async () => {
    const path = write('mine.ts', `import { replyOnPause } from ${JSON.stringify(replyOnPauseUrl)};\nconst h: unknown = replyOnPause(async function* (t) { yield t; }, { silenceMs: 900 });\nexport default h;\n`);
    const h = await loadHandler(path);
    expect(isHandler(h)).toBe(true);
    expect(h.kind === 'reply-on-pause' && h.options.silenceMs).toBe(900);
    expect(await loadHandler(relative(process.cwd(), path))).toBe(h);
  });

  it('loads a .mjs module whose named export `handler` is the handler', async () => {
    const path = write('named.mjs', `import { stream } from ${JSON.stringify(new URL('./stream.ts', import.meta.url).href)};\nexport const handler = stream(async function* (input) { for await (const f of input) yield f; });\n`);
    expect((await loadHandler(path)).kind).toBe('stream');
  });

  it('explains a missing file', async () => {
    await expect(loadHandler(join(dir, 'nope.ts'))).rejects.toThrow(/handler module not found: .*nope\.ts .*"echo" or "tone" or "assistant" or "openai"/);
  });

  it('explains a module without a handler export', async () => {
    const path = write('none.mjs', 'export const something = 1;\n');
    await expect(loadHandler(path)).rejects.toThrow(/exports no handler: add `export default replyOnPause\(\.\.\.\)`/);
  });

  it('explains a plain function export', async () => {
    const path = write('fn.mjs', 'export default async function* (turn) { yield turn; }\n');
    await expect(loadHandler(path)).rejects.toThrow(/export "default" is not a handler \(it is a plain function: wrap it/);
  });

  it('explains a non-handler object', async () => {
    const path = write('obj.mjs', 'export const handler = { kind: "other" };\n');
    await expect(loadHandler(path)).rejects.toThrow(/export "handler" is not a handler \(got object/);
  });

  it('reports a module that throws while loading', async () => {
    const path = write('throws.mjs', 'throw new Error("bad config");\n');
    await expect(loadHandler(path)).rejects.toThrow(/throws\.mjs failed to load: bad config/);
  });

  it('rejects a directory', async () => {
    await expect(loadHandler(dir)).rejects.toThrow(/is not a file/);
  });
});

describe('examples/my-handler.ts', () => {
  it('loads through loadHandler and replies at double speed', async () => {
    const path = fileURLToPath(new URL('../../examples/my-handler.ts', import.meta.url));
    const h = await loadHandler(path);
    expect(h.kind === 'reply-on-pause' && h.options.silenceMs).toBe(800);
  });
});
