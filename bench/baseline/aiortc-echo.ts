import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { collectOutput } from '../../scripts/stack/child-output.ts';

export interface AiortcEcho {
  /** http://127.0.0.1:<port>: `POST /offer`, `DELETE /sessions/<id>`, `GET /healthz`. */
  url: string;
  pid: number;
  /** SIGTERM (the server closes every peer), SIGKILL if it has not exited after 5 s. */
  stop(): Promise<void>;
  /** The last ~100 KB of its stdout and stderr. */
  output(): string;
  /** How it exited (null while it runs): a clean stop is code 0. */
  exitStatus(): { code: number | null; signal: NodeJS.Signals | null } | null;
}

export interface AiortcEchoOptions {
  /** Do not echo the server's output to our stderr. */
  quiet?: boolean;
  /** Debug logging of aiortc, aioice and HTTP (`--verbose`). */
  verbose?: boolean;
}

const PYTHON = '/usr/bin/python3';
const SCRIPT = resolve(import.meta.dirname, 'aiortc_echo.py');
const READY_TIMEOUT_MS = 20_000;
const KILL_AFTER_MS = 5_000;

/**
 * The benchmark's baseline: the aiortc echo server (bench/baseline/aiortc_echo.py, Debian's
 * python3-aiortc, see scripts/system-deps.sh) on 127.0.0.1 and a free port. Resolves once it
 * prints `aiortc-echo-ready <port>`.
 */
export async function startAiortcEcho(opts: AiortcEchoOptions = {}): Promise<AiortcEcho> {
  const args = [SCRIPT, '--port', '0', ...(opts.verbose ? ['--verbose'] : [])];
  const child = spawn(PYTHON, args, { env: { ...process.env, PYTHONUNBUFFERED: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = collectOutput(child, opts.quiet ?? false);
  let alive = true;
  let status: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exited = new Promise<void>((r) => {
    child.once('exit', (code, signal) => {
      alive = false;
      status = { code, signal };
      r();
    });
    // Spawning failed (no exit follows).
    child.once('error', () => {
      alive = false;
      r();
    });
  });

  const stop = async () => {
    if (!alive) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => alive && child.kill('SIGKILL'), KILL_AFTER_MS);
    await exited;
    clearTimeout(timer);
  };

  let port: number;
  try {
    port = await new Promise<number>((resolvePort, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
      let stdout = '';
      child.stdout.on('data', (b: Buffer) => {
        stdout += b.toString();
        const m = /^aiortc-echo-ready (\d+)$/m.exec(stdout);
        if (m) {
          clearTimeout(timer);
          resolvePort(Number(m[1]));
        }
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`exited (${signal ?? `code ${code}`}) before it was ready`));
      });
    });
  } catch (err) {
    await stop();
    throw new Error(`aiortc echo (${PYTHON} ${args.join(' ')}): ${(err as Error).message}\noutput:\n${output().slice(-4000)}`);
  }
  return { url: `http://127.0.0.1:${port}`, pid: child.pid ?? 0, stop, output, exitStatus: () => status };
}
