/**
 * 1:1 NAT (Fargate, EC2 with a public IP): the worker's sockets bind a private address, and the
 * public address forwards to the same port. For every host candidate of the answer, a candidate
 * with the public address and the same port is added (higher priority), so remote peers reach it.
 */
export function advertisePublicIp(sdp: string, publicIp: string): string {
  if (!publicIp) return sdp;
  const out: string[] = [];
  for (const line of sdp.split('\r\n')) {
    const m = /^a=candidate:(\S+) (\d+) (udp|tcp) (\d+) (\S+) (\d+) typ host(.*)$/i.exec(line);
    if (m && m[5] !== publicIp) {
      const [, foundation, component, proto, priority, , port, rest] = m;
      out.push(`a=candidate:${foundation}p ${component} ${proto} ${Number(priority) + 1} ${publicIp} ${port} typ host${rest}`);
    }
    out.push(line);
  }
  return out.join('\r\n');
}
