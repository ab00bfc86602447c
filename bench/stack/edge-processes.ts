import { readFileSync, readdirSync } from 'node:fs';

export interface EdgeProcesses {
  /** The workerd that runs the edge Worker and its Durable Objects (wrangler's runtime instance). */
  runtime: number;
  /** The workerd serving the port: wrangler dev's proxy in front of the runtime (dev only). */
  proxy: number;
  /** wrangler dev's own Node process (bundler, file watcher, inspector relay; dev only). */
  wrangler: number;
}

function cmdline(pid: string): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

function ppid(pid: string): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/**
 * The processes of the edge under `wrangler dev` on `port`. wrangler runs two workerd instances:
 * a proxy that owns the port (its command line carries `--socket-addr=entry=<ip>:<port>`) and
 * forwards every request to a second one that runs the Worker (the runtime). Both are children of
 * wrangler's Node process. In production only the runtime's work exists; the proxy and wrangler
 * are the local dev server's cost, reported apart.
 */
export function edgeProcesses(port: number): EdgeProcesses {
  const pids = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  const isWorkerd = (args: string[]) => args[0]?.endsWith('workerd') ?? false;
  const proxy = pids.find((p) => {
    const args = cmdline(p);
    return isWorkerd(args) && args.some((a) => a.startsWith('--socket-addr=entry=') && a.endsWith(`:${port}`));
  });
  if (!proxy) throw new Error(`no workerd process serves port ${port}`);
  const wrangler = ppid(proxy);
  const runtime = pids.find((p) => p !== proxy && isWorkerd(cmdline(p)) && ppid(p) === wrangler);
  if (!runtime) throw new Error(`no runtime workerd beside the proxy on port ${port} (wrangler pid ${wrangler})`);
  return { runtime: Number(runtime), proxy: Number(proxy), wrangler };
}
