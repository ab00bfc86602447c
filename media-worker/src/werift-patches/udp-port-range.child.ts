/**
 * A process that churns werift UDP transports in a port range, for udp-port-range.test.ts:
 * `node udp-port-range.child.ts <min> <max> <rounds> <perRound>` opens `perRound` transports at
 * once, closes them, `rounds` times, with the worker's werift patches installed, and prints one
 * JSON line: transports bound, bind errors thrown outside any caller (EADDRINUSE on a socket
 * werift has no 'error' listener on) and transports that never bound.
 */
import { UdpTransport } from 'werift';
import { installWeriftPatches } from './index.ts';

installWeriftPatches();

const [min, max, rounds, perRound] = process.argv.slice(2).map(Number) as [number, number, number, number];
let bound = 0;
let uncaught = 0;
let failed = 0;
process.on('uncaughtException', () => uncaught++);

const BIND_LIMIT_MS = 1000;
for (let r = 0; r < rounds; r++) {
  const transports = await Promise.all(
    Array.from({ length: perRound }, async () => {
      const init = UdpTransport.init('udp4', { portRange: [min, max], interfaceAddresses: { udp4: '127.0.0.1' } });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const t = await Promise.race([init.catch(() => null), new Promise<null>((res) => (timer = setTimeout(() => res(null), BIND_LIMIT_MS)))]);
      clearTimeout(timer);
      if (t) bound++;
      else failed++;
      return t;
    }),
  );
  await Promise.all(transports.map((t) => t?.close()));
}
console.log(JSON.stringify({ bound, uncaught, failed }));
process.exit(0);
