import { isIP } from 'node:net';

/**
 * The address WebRTC advertises as its public (1:1 NAT) address, found at start-up.
 *
 * ECS task metadata v4 (`${ECS_CONTAINER_METADATA_URI_V4}/task`) describes the task's awsvpc ENI
 * per container: `Networks[]` with `IPv4Addresses` (private), `IPv4SubnetCIDRBlock`, `MACAddress`,
 * `PrivateDNSName`, ... It has no public address field, also for a Fargate task that was given a
 * public IP. So the metadata is read for the log (which private address and subnet this task
 * has), and the public address comes from PUBLIC_IP_LOOKUP_URL (e.g. https://checkip.amazonaws.com,
 * which answers the caller's address as text) only when that is configured. Such a lookup sees
 * the address the task's traffic leaves from: the task's own public IP in a public subnet with
 * assignPublicIp, but a NAT gateway's address from a private subnet, which takes no inbound media;
 * hence opt-in.
 */

/** What is read; process.env and WorkerConfig both fit. */
export interface PublicIpEnv {
  PUBLIC_IP?: string | undefined;
  ICE_POLICY?: string | undefined;
  ECS_CONTAINER_METADATA_URI_V4?: string | undefined;
  PUBLIC_IP_LOOKUP_URL?: string | undefined;
}

/** The network facts task metadata gives for this task (the first awsvpc network found). */
export interface TaskNetwork {
  privateIpv4: string;
  subnetCidr: string | null;
  macAddress: string | null;
  privateDnsName: string | null;
  availabilityZone: string | null;
  launchType: string | null;
  taskArn: string | null;
}

const TIMEOUT_MS = 3_000;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strOrNull = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** Picks the first container network with an IPv4 address out of a v4 `/task` response. */
export function taskNetworkFrom(task: unknown): TaskNetwork | null {
  if (!isObject(task) || !Array.isArray(task.Containers)) return null;
  for (const c of task.Containers) {
    if (!isObject(c) || !Array.isArray(c.Networks)) continue;
    for (const n of c.Networks) {
      if (!isObject(n) || !Array.isArray(n.IPv4Addresses)) continue;
      const ip = n.IPv4Addresses.find((a): a is string => typeof a === 'string' && isIP(a) === 4);
      if (!ip) continue;
      return {
        privateIpv4: ip,
        subnetCidr: strOrNull(n.IPv4SubnetCIDRBlock),
        macAddress: strOrNull(n.MACAddress),
        privateDnsName: strOrNull(n.PrivateDNSName),
        availabilityZone: strOrNull(task.AvailabilityZone),
        launchType: strOrNull(task.LaunchType),
        taskArn: strOrNull(task.TaskARN),
      };
    }
  }
  return null;
}

/** GET `${base}/task`; null (logged) when it cannot be read. */
export async function readTaskNetwork(base: string, fetchFn: typeof fetch, log: (m: string) => void): Promise<TaskNetwork | null> {
  const url = `${base.replace(/\/+$/, '')}/task`;
  try {
    const res = await fetchFn(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!res.ok) {
      log(`task metadata: HTTP ${res.status} from ${url}`);
      return null;
    }
    const net = taskNetworkFrom(await res.json());
    if (!net) log('task metadata: no container network with an IPv4 address');
    return net;
  } catch (err) {
    log(`task metadata: ${url} unreadable (${err instanceof Error ? err.message : String(err)})`);
    return null;
  }
}

/**
 * The public IPv4 to advertise, or null to advertise none (host candidates, STUN and TURN then).
 * In order: PUBLIC_IP when set wins as is; ICE_POLICY=relay needs none; otherwise task metadata is
 * read and logged (it holds no public address) and PUBLIC_IP_LOOKUP_URL, if set, is asked.
 * Never throws.
 */
export async function resolvePublicIp(env: PublicIpEnv, fetchFn: typeof fetch = fetch, log: (m: string) => void = (m) => console.log(m)): Promise<string | null> {
  if (env.PUBLIC_IP) return env.PUBLIC_IP;
  if (env.ICE_POLICY === 'relay') return null;

  if (env.ECS_CONTAINER_METADATA_URI_V4) {
    const net = await readTaskNetwork(env.ECS_CONTAINER_METADATA_URI_V4, fetchFn, log);
    if (net) {
      const where = [net.subnetCidr && `subnet ${net.subnetCidr}`, net.macAddress && `ENI ${net.macAddress}`, net.availabilityZone, net.launchType]
        .filter(Boolean)
        .join(', ');
      log(`task metadata: private address ${net.privateIpv4} (${where}); task metadata carries no public address`);
    }
  }

  const lookup = env.PUBLIC_IP_LOOKUP_URL;
  if (!lookup) {
    if (env.ECS_CONTAINER_METADATA_URI_V4) log('public address: unknown (set PUBLIC_IP or PUBLIC_IP_LOOKUP_URL); advertising none');
    return null;
  }
  try {
    const res = await fetchFn(lookup, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    const ip = (await res.text()).trim();
    if (res.ok && isIP(ip) === 4) {
      log(`public address ${ip} (from ${lookup})`);
      return ip;
    }
    log(`public address: ${lookup} answered HTTP ${res.status} without an IPv4 address; advertising none`);
  } catch (err) {
    log(`public address: ${lookup} unreachable (${err instanceof Error ? err.message : String(err)}); advertising none`);
  }
  return null;
}
