import { readFileSync, readdirSync } from 'node:fs';

export interface EdgeProcesses {
  /** The workerd that runs the edge Worker and its Durable Objects. */
  runtime: number;
  /** wrangler dev's proxy workerd in front of the runtime (dev only); absent when the runtime serves the port. */
  proxy?: number;
  /** The Node process that started workerd: wrangler dev's (bundler, watcher, inspector relay) or Miniflare's. */
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
 * The processes of the edge on `port`. Under `wrangler dev` there are two workerd instances: a
 * proxy that owns the port (its command line carries `--socket-addr=entry=<ip>:<port>`) and
 * forwards every request to a second one that runs the Worker (the runtime), both children of
 * wrangler's Node process. The deployed bundle under Miniflare (edge-bundle.ts) has one workerd,
 * which owns the port and is the runtime. In production only the runtime's work exists; the proxy
 * and the Node parent are the local server's cost, reported apart.
 */
export function edgeProcesses(port: number): EdgeProcesses {
  const pids = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  const isWorkerd = (args: string[]) => args[0]?.endsWith('workerd') ?? false;
  const serving = pids.find((p) => {
    const args = cmdline(p);
    return isWorkerd(args) && args.some((a) => a.startsWith('--socket-addr=entry=') && a.endsWith(`:${port}`));
  });
  if (!serving) throw new Error(`no workerd process serves port ${port}`);
  const parent = ppid(serving);
  const behind = pids.find((p) => p !== serving && isWorkerd(cmdline(p)) && ppid(p) === parent);
  if (!behind) return { runtime: Number(serving), wrangler: parent };
  return { runtime: Number(behind), proxy: Number(serving), wrangler: parent };
}
