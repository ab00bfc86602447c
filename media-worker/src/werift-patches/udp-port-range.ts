/**
 * Race-free UDP ports in RTC_PORT_MIN..RTC_PORT_MAX. werift 0.25.2 gives every ICE host socket
 * and every TURN client socket its port with `findPort`: it binds a probe socket on each port
 * from the bottom of the range up, closes the first that binds, returns that port, and the real
 * socket binds it afterwards. Inside one process the gap is closed by the event loop (the probe's
 * close and the real bind run before any other probe's bind), but any other process binding in
 * the range (a second worker on the host, coturn relaying on the same ports, any program's
 * ephemeral port) can take the port in between: the real bind then fails with EADDRINUSE on a
 * socket werift has no 'error' listener on, an uncaught exception that ends the worker and every
 * call on it, and that gathering waits for 'listening' forever. (4 processes sharing 40 ports:
 * a few in 4000 binds, udp-port-range.test.ts.) Probing every port from the bottom also costs one
 * bind and close per port in use, on every socket.
 *
 * This replaces `UdpTransport.prototype.init` when a port range is set: the real socket itself
 * binds, starting at a random port of the range and moving on past ports in use (EADDRINUSE)
 * until one binds, so taking a port and holding it are one step. The random start also spreads
 * sessions over the range rather than reusing the port the last call released at once. Without
 * a range (port 0, or a fixed port) werift's own init runs.
 */
import type { Socket } from 'node:dgram';
import { UdpTransport } from 'werift';

const PATCHED = Symbol.for('switchboard.udpPortRange');

interface UdpTransportLike {
  socket: Socket;
  socketType: 'udp4' | 'udp6';
  options: { port?: number; portRange?: [number, number]; interfaceAddresses?: Partial<Record<'udp4' | 'udp6', string>> };
}
interface UdpTransportProto {
  init(this: UdpTransportLike): Promise<void>;
  [PATCHED]?: true;
}

/** Binds `socket` on `address` to the first free port of [min, max], from a random start; throws when none is. */
export async function bindInRange(socket: Socket, [min, max]: [number, number], address: string | undefined, random = Math.random): Promise<number> {
  const size = max - min + 1;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65_535 || size < 1) {
    throw new Error(`invalid UDP port range ${min}-${max}`);
  }
  const start = Math.floor(random() * size);
  for (let i = 0; i < size; i++) {
    const port = min + ((start + i) % size);
    const err = await bindOnce(socket, port, address);
    if (!err) return port;
    if (err.code !== 'EADDRINUSE' && err.code !== 'EACCES') throw err;
  }
  throw new Error(`no free UDP port in ${min}-${max}${address ? ` on ${address}` : ''}`);
}

/** One bind attempt; the socket is unbound again after a failed one (Node resets it), so it can retry. */
function bindOnce(socket: Socket, port: number, address: string | undefined): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const onListening = () => {
      socket.off('error', onError);
      resolve(null);
    };
    const onError = (err: NodeJS.ErrnoException) => {
      socket.off('listening', onListening);
      resolve(err);
    };
    socket.once('listening', onListening);
    socket.once('error', onError);
    socket.bind({ port, address, exclusive: true });
  });
}

/** Installs the race-free init once per process (idempotent); throws if werift's shape is not the expected one. */
export function installUdpPortRange(): void {
  const proto = UdpTransport.prototype as unknown as UdpTransportProto;
  if (proto[PATCHED]) return;
  const original = proto.init;
  if (typeof original !== 'function') throw new Error('werift UdpTransport.init not found: werift-patches/udp-port-range.ts needs updating');
  proto.init = async function init(this: UdpTransportLike): Promise<void> {
    const range = this.options.portRange;
    if (this.options.port || !range) return original.call(this);
    await bindInRange(this.socket, range, this.options.interfaceAddresses?.[this.socketType]);
  };
  proto[PATCHED] = true;
}
