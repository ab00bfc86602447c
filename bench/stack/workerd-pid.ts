import { readFileSync, readdirSync } from 'node:fs';

/**
 * The pid of the workerd process serving the edge on `port` under `wrangler dev` (wrangler runs
 * workerd as a child; its command line carries `--socket-addr=entry=<ip>:<port>`).
 */
export function workerdPid(port: number): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    const args = cmdline.split('\0');
    if (args[0]?.endsWith('workerd') && args.some((a) => a.startsWith('--socket-addr=entry=') && a.endsWith(`:${port}`))) return Number(entry);
  }
  throw new Error(`no workerd process serves port ${port}`);
}
