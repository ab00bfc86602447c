import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A throwaway certificate authority made at test time with the openssl CLI (/usr/bin/openssl),
 * and one server certificate it signs, for TURN over TLS. Keys are P-256; both certificates live
 * one day. Nothing is installed system-wide: `trustInNssDb` makes a browser profile's own NSS
 * database (Chromium on Linux reads `$HOME/.pki/nssdb`) trust the CA.
 */
export interface TestCa {
  caCert: string;
  /** The server's certificate (PEM file) and its key. */
  cert: string;
  key: string;
}

const OPENSSL = '/usr/bin/openssl';
const CERTUTIL = '/usr/bin/certutil';

function openssl(args: string[], cwd: string): void {
  execFileSync(OPENSSL, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
}

/** Makes the CA and a server certificate for `hosts` (IPv4 addresses or DNS names) in `dir`. */
export function makeTestCa(dir: string, hosts: readonly string[]): TestCa {
  mkdirSync(dir, { recursive: true });
  const ecKey = (name: string) => openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name], dir);
  ecKey('ca.key');
  openssl(
    ['req', '-x509', '-new', '-key', 'ca.key', '-sha256', '-days', '1', '-subj', '/CN=Switchboard test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'ca.pem'],
    dir,
  );
  ecKey('server.key');
  openssl(['req', '-new', '-key', 'server.key', '-subj', `/CN=${hosts[0] ?? 'localhost'}`, '-out', 'server.csr'], dir);
  const san = hosts.map((h) => (/^\d+\.\d+\.\d+\.\d+$/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  writeFileSync(
    join(dir, 'server.ext'),
    `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`,
  );
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-sha256', '-extfile', 'server.ext', '-out', 'server.pem'], dir);
  return { caCert: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
}

/** Why an NSS database cannot be made here (no certutil), or null. */
export function nssSkipReason(): string | null {
  try {
    execFileSync(CERTUTIL, ['-H'], { stdio: 'ignore' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return `${CERTUTIL} is missing (Debian package libnss3-tools; see scripts/system-deps.sh)`;
  }
  return null;
}

/** Creates `home/.pki/nssdb` trusting `caCert` to identify servers; returns `home`. */
export function trustInNssDb(home: string, caCert: string): string {
  const db = join(home, '.pki', 'nssdb');
  mkdirSync(db, { recursive: true });
  execFileSync(CERTUTIL, ['-N', '-d', `sql:${db}`, '--empty-password'], { stdio: 'pipe' });
  execFileSync(CERTUTIL, ['-A', '-d', `sql:${db}`, '-n', 'switchboard-test-ca', '-t', 'C,,', '-i', caCert], { stdio: 'pipe' });
  return home;
}
