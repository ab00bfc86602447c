import { execFile, spawnSync } from 'node:child_process';

/**
 * Network namespaces for the strict-firewall test (needs root, iproute2 and nftables), in the
 * style of netns.ts but with a firewall on the browser's side instead of a block in the router:
 *
 *   sbfw-b (browser)                  sbfw-core (router)                   sbfw-w (worker)
 *   eth0 10.78.1.10/24 ── veth ── vb 10.78.1.1    vw 10.78.2.1 ── veth ── eth0 10.78.2.10/24
 *   default via 10.78.1.1            lo 10.78.0.1 (coturn), 10.78.0.2 (edge on :443, queue)
 *
 * The browser namespace's nftables table `inet sbfw` is an enterprise firewall: every UDP packet
 * out is dropped (DNS, STUN, TURN over UDP, ICE checks), and TCP out only to port 443 passes.
 * Both are counted. The worker's side is open. Namespaces left by a crashed run are removed
 * first; `remove()` (also run on process exit) removes everything.
 */

const PREFIX = 'sbfw-';
export const FW_NS = { core: `${PREFIX}core`, browser: `${PREFIX}b`, worker: `${PREFIX}w` } as const;
export const FW_IP = { turn: '10.78.0.1', edge: '10.78.0.2', browser: '10.78.1.10', worker: '10.78.2.10' } as const;

export interface FirewallLab {
  /** A command prefix that runs a command inside namespace `ns`. */
  wrap(ns: string): string[];
  /** Packets the browser's firewall dropped so far: UDP, and TCP to ports other than 443. */
  dropped(): Promise<{ udp: number; tcp: number }>;
  /** TCP packets the browser sent to port 443 (TURN/TLS, TURN/TCP and the edge) so far. */
  allowed443(): Promise<number>;
  remove(): Promise<void>;
}

function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`, { cause: err }));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

function removeAllSync(): void {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const ns of list.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(PREFIX))) {
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

/** The browser's firewall: loopback free; UDP out dropped; TCP out only to 443. */
const FIREWALL = `
table inet sbfw {
  chain out {
    type filter hook output priority 0; policy accept;
    oifname "lo" accept
    meta l4proto udp counter drop comment "udp"
    tcp dport 443 counter accept comment "tcp443"
    meta l4proto tcp counter drop comment "tcp"
  }
}
`;

/** The `counter packets N` of the rule with `comment`. */
function counter(listing: string, comment: string): number {
  const line = listing.split('\n').find((l) => l.includes(`comment "${comment}"`));
  return Number(/counter packets (\d+)/.exec(line ?? '')?.[1] ?? 0);
}

export async function createFirewallLab(): Promise<FirewallLab> {
  removeAllSync();
  let removed = false;
  const onExit = () => {
    if (!removed) removeAllSync();
  };
  process.once('exit', onExit);
  const ip = (...args: string[]) => run('ip', args);
  const nftB = (args: string[], input?: string) => run('ip', ['netns', 'exec', FW_NS.browser, 'nft', ...args], input);
  try {
    for (const ns of Object.values(FW_NS)) {
      await ip('netns', 'add', ns);
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    await ip('-n', FW_NS.core, 'addr', 'add', `${FW_IP.turn}/32`, 'dev', 'lo');
    await ip('-n', FW_NS.core, 'addr', 'add', `${FW_IP.edge}/32`, 'dev', 'lo');
    const legs = [
      { ns: FW_NS.browser, dev: 'vb', gw: '10.78.1.1', addr: `${FW_IP.browser}/24` },
      { ns: FW_NS.worker, dev: 'vw', gw: '10.78.2.1', addr: `${FW_IP.worker}/24` },
    ];
    for (const l of legs) {
      await ip('-n', FW_NS.core, 'link', 'add', l.dev, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', l.ns);
      await ip('-n', FW_NS.core, 'addr', 'add', `${l.gw}/24`, 'dev', l.dev);
      await ip('-n', FW_NS.core, 'link', 'set', l.dev, 'up');
      await ip('-n', l.ns, 'addr', 'add', l.addr, 'dev', 'eth0');
      await ip('-n', l.ns, 'link', 'set', 'eth0', 'up');
      await ip('-n', l.ns, 'route', 'add', 'default', 'via', l.gw);
    }
    await run('ip', ['netns', 'exec', FW_NS.core, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']);
    await nftB(['-f', '-'], FIREWALL);
  } catch (err) {
    removeAllSync();
    process.off('exit', onExit);
    removed = true;
    throw err;
  }
  const listing = () => nftB(['list', 'chain', 'inet', 'sbfw', 'out']);
  return {
    wrap: (ns) => ['ip', 'netns', 'exec', ns],
    async dropped() {
      const l = await listing();
      return { udp: counter(l, 'udp'), tcp: counter(l, 'tcp') };
    },
    async allowed443() {
      return counter(await listing(), 'tcp443');
    },
    async remove() {
      if (removed) return;
      removed = true;
      process.off('exit', onExit);
      removeAllSync();
    },
  };
}
