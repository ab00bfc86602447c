import { createRoutedNamespaces } from './routed-namespaces.ts';

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
 * Both are counted. The worker's side is open. The namespaces themselves are
 * routed-namespaces.ts's (created idempotently, removed on exit).
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
  const lab = await createRoutedNamespaces({
    prefix: PREFIX,
    net: '10.78',
    coreAddresses: [FW_IP.turn, FW_IP.edge],
    setup: async (l) => void (await l.exec(FW_NS.browser, 'nft', ['-f', '-'], FIREWALL)),
  });
  const listing = () => lab.exec(FW_NS.browser, 'nft', ['list', 'chain', 'inet', 'sbfw', 'out']);
  return {
    wrap: lab.wrap,
    async dropped() {
      const l = await listing();
      return { udp: counter(l, 'udp'), tcp: counter(l, 'tcp') };
    },
    async allowed443() {
      return counter(await listing(), 'tcp443');
    },
    remove: lab.remove,
  };
}
