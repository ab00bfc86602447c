import { createRoutedNamespaces, run } from './routed-namespaces.ts';

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
 * The namespaces themselves are routed-namespaces.ts's (created idempotently, removed on exit).
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
  const lab = await createRoutedNamespaces({
    prefix: PREFIX,
    net: '10.77',
    coreAddresses: [IP.core],
    setup: async (l) => void (await l.exec(NS.core, 'nft', ['-f', '-'], nftRuleset())),
  });
  const nft = (args: string[], input?: string) => lab.exec(NS.core, 'nft', args, input);
  return {
    wrap: lab.wrap,
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
    remove: lab.remove,
  };
}
