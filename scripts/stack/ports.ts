import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Spawns `cmd` with `args`, prefixed by `wrap` (a command prefix such as
 * `['ip', 'netns', 'exec', 'sb-w']`, which execs the command inside a network namespace): the
 * launchers' way of running a component somewhere the test process itself cannot listen or dial.
 */
export function wrapped(wrap: readonly string[] | undefined, cmd: string, args: string[]): [string, string[]] {
  if (!wrap || wrap.length === 0) return [cmd, args];
  return [wrap[0]!, [...wrap.slice(1), cmd, ...args]];
}

/**
 * Runs an ES module snippet with this Node under `wrap` (e.g. inside a network namespace); true
 * when it exits 0 within `timeoutMs`. Readiness probes for components the test process cannot reach.
 */
export function probeIn(wrap: readonly string[], code: string, timeoutMs = 5000): Promise<boolean> {
  const [cmd, args] = wrapped(wrap, process.execPath, ['--input-type=module', '-e', code]);
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', () => (clearTimeout(timer), resolve(false)));
    child.once('exit', (code) => (clearTimeout(timer), resolve(code === 0)));
  });
}

/**
 * Polls `url` until it answers 2xx or `timeoutMs` passes. With `wrap`, each request is made by a
 * short-lived Node process under that prefix (the URL is only reachable from there).
 */
export async function waitForHttp(url: string, timeoutMs: number, isAlive: () => boolean = () => true, wrap?: readonly string[]): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error(`process behind ${url} exited`);
    if (wrap && wrap.length > 0) {
      const code = `const r = await fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(1000) }); process.exit(r.ok ? 0 : 1);`;
      if (await probeIn(wrap, code)) return;
      last = `no 2xx from inside ${wrap.join(' ')}`;
    } else {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
        if (res.ok) return;
        last = `HTTP ${res.status}`;
      } catch (err) {
        last = (err as Error).message;
      }
    }
    await new Promise((r) => setTimeout(r, wrap && wrap.length > 0 ? 200 : 100));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms (${last})`);
}
