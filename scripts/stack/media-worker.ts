import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { WORKER_NODE_FLAGS } from '../../media-worker/src/node-flags.ts';
import { collectOutput } from './child-output.ts';
import { freePort, waitForHttp, wrapped } from './ports.ts';

export interface LocalWorker {
  url: string;
  pid: number;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  output(): string;
}

const MAIN = resolve(import.meta.dirname, '../../media-worker/src/main.ts');

export interface MediaWorkerOptions {
  env: Record<string, string>;
  quiet?: boolean;
  /** Where /healthz, /readyz and /metrics listen (127.0.0.1). */
  host?: string;
  /**
   * Command prefix the worker runs under, e.g. `['ip', 'netns', 'exec', 'sb-w']` to run it inside
   * a network namespace (the health check then runs there too). `ip netns exec` execs the
   * command, so `pid` and signals are the worker's own.
   */
  wrap?: string[];
}

/**
 * One media worker process (`node media-worker/src/main.ts`), health on 127.0.0.1 (or `host`).
 * WebRTC on 127.0.0.1 and peers on loopback and private addresses unless `env` (or this
 * process's environment, for RTC_ALLOW_PEER_ADDRESSES) says otherwise.
 */
export async function startMediaWorker(opts: MediaWorkerOptions): Promise<LocalWorker> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.env['WORKER_HTTP_PORT'] ? Number(opts.env['WORKER_HTTP_PORT']) : await freePort();
  const [cmd, argv] = wrapped(opts.wrap, process.execPath, [...WORKER_NODE_FLAGS, MAIN]);
  const env: Record<string, string | undefined> = {
    // Local stacks call from this machine (loopback) or a lab network (the NAT tests' namespaces
    // are 10.77/16): both are refused by the worker's default, public peers only.
    RTC_ALLOW_PEER_ADDRESSES: 'loopback,private',
    ...process.env,
    RTC_INTERFACE: '127.0.0.1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    ...opts.env,
    WORKER_HTTP_HOST: host,
    WORKER_HTTP_PORT: String(port),
  };
  // Every call on one UDP socket, as deployed, on a port the OS picks (many stacks share this
  // machine); a port range, or RTC_UDP_PORT set (even empty: a socket per call), overrides it.
  if (env['RTC_UDP_PORT'] === undefined && !env['RTC_PORT_MIN']) env['RTC_UDP_PORT'] = '0';
  const child = spawn(cmd, argv, {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = collectOutput(child, opts.quiet ?? false);
  let exitCode: number | null = null;
  let alive = true;
  const exited = new Promise<number | null>((r) =>
    child.on('exit', (code) => {
      alive = false;
      exitCode = code;
      r(code);
    }),
  );
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (alive) child.kill(signal);
    await exited;
    return exitCode;
  };
  try {
    await waitForHttp(`${url}/healthz`, 30_000, () => alive, opts.wrap);
  } catch (err) {
    await stop('SIGKILL');
    throw new Error(`${(err as Error).message}\nworker output:\n${output().slice(-4000)}`);
  }
  return { url, pid: child.pid ?? 0, stop, output };
}
