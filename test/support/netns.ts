import { execFile, spawnSync } from 'node:child_process';

/**
 * A small routed network of Linux network namespaces for NAT traversal tests (needs root:
 * CAP_NET_ADMIN and CAP_SYS_ADMIN for `ip netns add`; iproute2 and nftables).
 *
 *   sbnat-b (browser)                 sbnat-core (router)                 sbnat-w (worker)
 *   eth0 10.77.1.10/24 ── veth ── vb 10.77.1.1   vw 10.77.2.1 ── veth ── eth0 10.77.2.10/24
 *   default via 10.77.1.1            lo 10.77.0.1 (TURN, edge, queue)    default via 10.77.2.1
 *
 * `sbnat-core` forwards between the two subnets. Its nftables table `inet sbnat` counts the UDP
 * it forwards between them (chain `count`, before any filtering) and, while the block is on,
 * drops it (chain `block`). Traffic to and from services on 10.77.0.1 (coturn's allocations and
 * relayed packets included) is the router's own input/output, never forwarded, so it always
 * passes: with the block on, browser and worker reach each other only through the TURN relay.
 *
 * Creation is idempotent: namespaces left by a crashed run (and any process still inside them)
 * are removed first. `remove()` (also run on process exit if the caller never got to it) removes
 * everything; the veth pairs and nftables table go with their namespaces.
 */

const PREFIX = 'sbnat-';
export const NS = { core: `${PREFIX}core`, browser: `${PREFIX}b`, worker: `${PREFIX}w` } as const;
export const IP = { core: '10.77.0.1', browser: '10.77.1.10', worker: '10.77.2.10' } as const;
const SUBNET = { browser: '10.77.1.0/24', worker: '10.77.2.0/24' } as const;

export interface NatLab {
  /** A command prefix that runs a command inside namespace `ns`. */
  wrap(ns: string): string[];
  /** Turns the drop of forwarded UDP between the browser's and the worker's subnets on or off. */
  blockUdp(on: boolean): Promise<void>;
  /** UDP packets the router was asked to forward between the two subnets so far (dropped or not). */
  forwardedUdp(): Promise<number>;
  /** UDP packets dropped by the block so far. */
  droppedUdp(): Promise<number>;
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

/**
 * Why network namespaces cannot be used here, or null when they can. Only a lack of privilege is
 * a reason to skip: as root, a missing `ip` binary is left for `createNatLab` to fail on.
 */
export async function netnsSkipReason(): Promise<string | null> {
  if (process.platform !== 'linux') return `network namespaces are Linux-only (platform ${process.platform})`;
  const uid = process.getuid?.() ?? -1;
  if (uid !== 0) return `creating network namespaces needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN); this process runs as uid ${uid}`;
  const probe = `${PREFIX}probe-${process.pid}`;
  try {
    await run('ip', ['netns', 'add', probe]);
  } catch (err) {
    if (((err as Error).cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return null;
    return `\`ip netns add\` failed although running as root (no CAP_SYS_ADMIN in this container?): ${(err as Error).message}`;
  }
  await run('ip', ['netns', 'del', probe]).catch(() => {});
  return null;
}

/** Our namespaces present now (from this or an earlier, crashed run). */
function ourNamespaces(): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return (r.stdout ?? '')
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(PREFIX));
}

/** Kills (by pid) whatever still runs inside our namespaces, then deletes them. Synchronous: also used on exit. */
function removeAllSync(): void {
  for (const ns of ourNamespaces()) {
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

function nftRuleset(): string {
  const b = SUBNET.browser;
  const w = SUBNET.worker;
  return `
table inet sbnat {
  chain count {
    type filter hook forward priority -10; policy accept;
    ip saddr ${b} ip daddr ${w} meta l4proto udp counter
    ip saddr ${w} ip daddr ${b} meta l4proto udp counter
  }
  chain block {
    type filter hook forward priority 0; policy accept;
  }
}
`;
}

/** Sum of the `counter packets N` of one chain of table inet sbnat. */
function sumCounters(listing: string): number {
  let n = 0;
  for (const m of listing.matchAll(/counter packets (\d+)/g)) n += Number(m[1]);
  return n;
}

export async function createNatLab(): Promise<NatLab> {
  removeAllSync();
  let removed = false;
  const onExit = () => {
    if (!removed) removeAllSync();
  };
  process.once('exit', onExit);
  const ip = (...args: string[]) => run('ip', args);
  const inNs = (ns: string, cmd: string, args: string[], input?: string) => run('ip', ['netns', 'exec', ns, cmd, ...args], input);
  const nft = (args: string[], input?: string) => inNs(NS.core, 'nft', args, input);
  try {
    for (const ns of Object.values(NS)) {
      await ip('netns', 'add', ns);
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    await ip('-n', NS.core, 'addr', 'add', `${IP.core}/32`, 'dev', 'lo');
    const legs = [
      { ns: NS.browser, dev: 'vb', gw: '10.77.1.1/24', addr: `${IP.browser}/24` },
      { ns: NS.worker, dev: 'vw', gw: '10.77.2.1/24', addr: `${IP.worker}/24` },
    ];
    for (const l of legs) {
      await ip('-n', NS.core, 'link', 'add', l.dev, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', l.ns);
      await ip('-n', NS.core, 'addr', 'add', l.gw, 'dev', l.dev);
      await ip('-n', NS.core, 'link', 'set', l.dev, 'up');
      await ip('-n', l.ns, 'addr', 'add', l.addr, 'dev', 'eth0');
      await ip('-n', l.ns, 'link', 'set', 'eth0', 'up');
      await ip('-n', l.ns, 'route', 'add', 'default', 'via', l.gw.split('/')[0]!);
    }
    await inNs(NS.core, 'sh', ['-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']);
    await nft(['-f', '-'], nftRuleset());
  } catch (err) {
    removeAllSync();
    process.off('exit', onExit);
    removed = true;
    throw err;
  }

  return {
    wrap: (ns) => ['ip', 'netns', 'exec', ns],
    async blockUdp(on) {
      await nft(['flush', 'chain', 'inet', 'sbnat', 'block']);
      if (!on) return;
      const rules = [
        `add rule inet sbnat block ip saddr ${SUBNET.browser} ip daddr ${SUBNET.worker} meta l4proto udp counter drop`,
        `add rule inet sbnat block ip saddr ${SUBNET.worker} ip daddr ${SUBNET.browser} meta l4proto udp counter drop`,
      ];
      await nft(['-f', '-'], rules.join('\n') + '\n');
    },
    async forwardedUdp() {
      return sumCounters(await nft(['list', 'chain', 'inet', 'sbnat', 'count']));
    },
    async droppedUdp() {
      return sumCounters(await nft(['list', 'chain', 'inet', 'sbnat', 'block']));
    },
    async remove() {
      if (removed) return;
      removed = true;
      process.off('exit', onExit);
      removeAllSync();
    },
  };
}
