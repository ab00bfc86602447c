import { execFile, spawnSync } from 'node:child_process';

/**
 * The topology the network-namespace tests share (needs root: CAP_NET_ADMIN and CAP_SYS_ADMIN for
 * `ip netns add`; iproute2): three namespaces named `<prefix>b` (browser), `<prefix>core` (a
 * router with the services' addresses on its loopback) and `<prefix>w` (worker), the browser and
 * the worker each on a /24 of `<net>` behind a veth to the router, which forwards between them:
 *
 *   <prefix>b                           <prefix>core                         <prefix>w
 *   eth0 <net>.1.10/24 ── veth ── vb <net>.1.1    vw <net>.2.1 ── veth ── eth0 <net>.2.10/24
 *   default via <net>.1.1               lo: coreAddresses                    default via <net>.2.1
 *
 * Creation is idempotent: namespaces with the prefix left by a crashed run (and any process still
 * inside them) are removed first. `remove()` (also run on process exit if the caller never got
 * to it) removes everything; veth pairs and nftables tables go with their namespaces.
 */
export interface RoutedNamespaces {
  ns: { core: string; browser: string; worker: string };
  ip: { browser: string; worker: string };
  subnet: { browser: string; worker: string };
  /** A command prefix that runs a command inside namespace `ns`. */
  wrap(ns: string): string[];
  /** Runs `cmd args` inside namespace `ns` (stdin from `input`); its stdout. */
  exec(ns: string, cmd: string, args: string[], input?: string): Promise<string>;
  remove(): Promise<void>;
}

export function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`, { cause: err }));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Kills (by pid) whatever still runs inside namespaces named `prefix*`, then deletes them. Synchronous: also used on exit. */
function removeAllSync(prefix: string): void {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const ns of list.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(prefix))) {
    const pids = (spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '')
      .split(/\s+/)
      .map(Number)
      .filter((p) => Number.isInteger(p) && p > 1 && p !== process.pid);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

/**
 * Builds the topology; `net` is the first two octets (`10.77`), `coreAddresses` the /32s on the
 * router's loopback where the services listen. `setup` runs last (nftables rules, say); a failure
 * anywhere removes everything.
 */
export async function createRoutedNamespaces(o: {
  prefix: string;
  net: string;
  coreAddresses: string[];
  setup?: (lab: RoutedNamespaces) => Promise<void>;
}): Promise<RoutedNamespaces> {
  removeAllSync(o.prefix);
  let removed = false;
  const onExit = () => {
    if (!removed) removeAllSync(o.prefix);
  };
  process.once('exit', onExit);
  const ns = { core: `${o.prefix}core`, browser: `${o.prefix}b`, worker: `${o.prefix}w` };
  const lab: RoutedNamespaces = {
    ns,
    ip: { browser: `${o.net}.1.10`, worker: `${o.net}.2.10` },
    subnet: { browser: `${o.net}.1.0/24`, worker: `${o.net}.2.0/24` },
    wrap: (name) => ['ip', 'netns', 'exec', name],
    exec: (name, cmd, args, input) => run('ip', ['netns', 'exec', name, cmd, ...args], input),
    async remove() {
      if (removed) return;
      removed = true;
      process.off('exit', onExit);
      removeAllSync(o.prefix);
    },
  };
  const ip = (...args: string[]) => run('ip', args);
  try {
    for (const name of Object.values(ns)) {
      await ip('netns', 'add', name);
      await ip('-n', name, 'link', 'set', 'lo', 'up');
    }
    for (const addr of o.coreAddresses) await ip('-n', ns.core, 'addr', 'add', `${addr}/32`, 'dev', 'lo');
    const legs = [
      { ns: ns.browser, dev: 'vb', gw: `${o.net}.1.1`, addr: `${lab.ip.browser}/24` },
      { ns: ns.worker, dev: 'vw', gw: `${o.net}.2.1`, addr: `${lab.ip.worker}/24` },
    ];
    for (const l of legs) {
      await ip('-n', ns.core, 'link', 'add', l.dev, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', l.ns);
      await ip('-n', ns.core, 'addr', 'add', `${l.gw}/24`, 'dev', l.dev);
      await ip('-n', ns.core, 'link', 'set', l.dev, 'up');
      await ip('-n', l.ns, 'addr', 'add', l.addr, 'dev', 'eth0');
      await ip('-n', l.ns, 'link', 'set', 'eth0', 'up');
      await ip('-n', l.ns, 'route', 'add', 'default', 'via', l.gw);
    }
    await lab.exec(ns.core, 'sh', ['-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']);
    await o.setup?.(lab);
  } catch (err) {
    await lab.remove();
    throw err;
  }
  return lab;
}
