import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectOutput } from './child-output.ts';
import { stunBinding } from './stun-client.ts';
import { probeIn, wrapped } from './ports.ts';

export const TURNSERVER = '/usr/bin/turnserver';

export interface CoturnOptions {
  /** `static-auth-secret` (TURN REST API): the edge's TURN_SECRET. */
  secret: string;
  /** Where it listens, UDP and TCP (127.0.0.1). */
  listenIp?: string;
  /** Listening port; a free one when unset. */
  port?: number;
  /** Address relayed allocations are bound on (listenIp). */
  relayIp?: string;
  /** Relay port range (coturn's default 49152-65535 when unset). */
  minPort?: number;
  maxPort?: number;
  realm?: string;
  /** Extra turnserver flags (e.g. `--verbose`, `--denied-peer-ip=...`). */
  extraArgs?: string[];
  /** Echo turnserver's log to stderr. */
  verbose?: boolean;
  /**
   * TURN over TLS (RFC 7065) with this certificate chain and key (PEM files). coturn then also
   * takes TLS on the plain listening port (it tells TLS from TURN by the first bytes), so one
   * port serves `turn:` over UDP and TCP and `turns:`, as a server on 443 for firewalls that allow
   * only TCP 443 does; `tlsPort` (5349 when unset) is coturn's dedicated TLS port.
   */
  tls?: { cert: string; pkey: string; tlsPort?: number };
  /**
   * Command prefix turnserver runs under, e.g. `['ip', 'netns', 'exec', 'sb-core']` to run it
   * inside a network namespace; the readiness probe then runs there too, and the port defaults
   * to 3478 (a fresh namespace has it free).
   */
  wrap?: string[];
}

export interface LocalCoturn {
  /** `turn:` URLs for TURN_URLS: UDP first, then TCP, then (with `tls`) `turns:` on the same port. */
  urls: string[];
  host: string;
  port: number;
  realm: string;
  pid: number;
  /** ms from spawn to the first STUN binding answer. */
  startupMs: number;
  /** turnserver's log so far. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * A real coturn (`/usr/bin/turnserver`, Debian package `coturn`) as a child process, configured
 * entirely on the command line (`-n`: no turnserver.conf from /etc), with TURN REST API
 * authentication (`use-auth-secret`: username `<expiry>:<user>`, password base64 HMAC-SHA1), no
 * TLS unless `tls` is given, no DTLS, no CLI, its SQLite db and pid file in a temp dir, and loopback peers allowed (without
 * `allow-loopback-peers` coturn refuses to relay to 127.0.0.1, which every local peer is).
 * Resolves once it answers a STUN binding request on its UDP port.
 */
export async function startCoturn(opts: CoturnOptions): Promise<LocalCoturn> {
  const host = opts.listenIp ?? '127.0.0.1';
  const relayIp = opts.relayIp ?? host;
  const realm = opts.realm ?? 'switchboard.local';
  const wrap = opts.wrap ?? [];
  const port = opts.port ?? (wrap.length > 0 ? 3478 : await freeUdpTcpPort(host));
  const dir = mkdtempSync(join(tmpdir(), 'sb-coturn-'));
  const args = [
    '-n',
    '--no-cli',
    ...(opts.tls ? [`--cert=${opts.tls.cert}`, `--pkey=${opts.tls.pkey}`, `--tls-listening-port=${opts.tls.tlsPort ?? 5349}`] : ['--no-tls']),
    '--no-dtls',
    '--use-auth-secret',
    `--static-auth-secret=${opts.secret}`,
    `--realm=${realm}`,
    `--listening-ip=${host}`,
    `--listening-port=${port}`,
    `--relay-ip=${relayIp}`,
    '--allow-loopback-peers',
    '--no-multicast-peers',
    '--fingerprint',
    '--no-software-attribute',
    '--log-file=stdout',
    '--simple-log',
    `--pidfile=${join(dir, 'turnserver.pid')}`,
    `--userdb=${join(dir, 'turndb')}`,
  ];
  if (opts.minPort !== undefined) args.push(`--min-port=${opts.minPort}`);
  if (opts.maxPort !== undefined) args.push(`--max-port=${opts.maxPort}`);
  args.push(...(opts.extraArgs ?? []));

  const started = Date.now();
  const [cmd, argv] = wrapped(wrap, TURNSERVER, args);
  const child: ChildProcess = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = collectOutput(child, !opts.verbose);
  let alive = true;
  let spawnError: Error | null = null;
  const exited = new Promise<void>((r) => child.once('close', () => r()));
  child.once('exit', () => (alive = false));
  child.once('error', (err) => {
    alive = false;
    spawnError = err;
  });
  // Never leave a turnserver behind when the test process exits without calling stop().
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const stop = async () => {
    process.off('exit', killOnExit);
    if (alive) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 10_000;
  for (;;) {
    if (!alive) {
      await stop();
      const why = spawnError ? `could not start ${TURNSERVER}: ${(spawnError as Error).message} (Debian package coturn; see scripts/system-deps.sh)` : 'turnserver exited';
      throw new Error(`${why}\nturnserver output:\n${output().slice(-4000)}`);
    }
    const ready =
      wrap.length > 0
        ? await probeIn(wrap, `const { stunBinding } = await import(${JSON.stringify(new URL('./stun-client.ts', import.meta.url).href)}); process.exit((await stunBinding(${JSON.stringify(host)}, ${port}, 300)) ? 0 : 1);`)
        : await stunBinding(host, port, 300);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`turnserver did not answer STUN on ${host}:${port} within 10 s\nturnserver output:\n${output().slice(-4000)}`);
    }
  }
  const hp = host.includes(':') ? `[${host}]` : host;
  return {
    urls: [`turn:${hp}:${port}?transport=udp`, `turn:${hp}:${port}?transport=tcp`, ...(opts.tls ? [`turns:${hp}:${port}?transport=tcp`] : [])],
    host,
    port,
    realm,
    pid: child.pid ?? 0,
    startupMs: Date.now() - started,
    output,
    stop,
  };
}

async function freeUdpTcpPort(host: string): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, host, () => {
        const addr = srv.address();
        const p = typeof addr === 'object' && addr ? addr.port : 0;
        srv.close(() => resolve(p));
      });
    });
    const ok = await new Promise<boolean>((resolve) => {
      const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
      s.once('error', () => resolve(false));
      s.bind(port, host, () => s.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error(`no port free for both UDP and TCP on ${host}`);
}
