/**
 * No STUN server the operator did not configure. werift 0.25.2 derives a Connection's STUN server
 * from its ICE servers and, when none is a `stun:` URL, falls back to Google's public one
 * (stun.l.google.com:19302, hard-wired in `applyStunTurnServersFromOptions`): a DNS lookup and a
 * packet to a third party on every answer, and up to the whole gathering limit (5 s) more where
 * that name does not resolve or gets no reply. stun-from-turn.ts names a UDP TURN server as the
 * STUN server when there is one; with TURN only over TCP or TLS (strict firewalls) there is none,
 * and this patch leaves the STUN server unset: werift then gathers host and relay candidates only
 * (its server-reflexive gathering runs only with a STUN server).
 */
import { Connection, validateAddress } from 'werift';

const PATCHED = Symbol.for('switchboard.noDefaultStun');

interface ConnectionLike {
  options: { stunServer?: unknown; turnServer?: unknown };
  stunServer: unknown;
  turnServer: unknown;
}
interface ConnectionProto {
  applyStunTurnServersFromOptions(this: ConnectionLike): void;
  [PATCHED]?: true;
}

/** Installs once per process (idempotent); throws if werift's shape is not the expected one. */
export function installNoDefaultStun(): void {
  const proto = Connection.prototype as unknown as ConnectionProto;
  if (proto[PATCHED]) return;
  if (typeof proto.applyStunTurnServersFromOptions !== 'function')
    throw new Error('werift Connection.applyStunTurnServersFromOptions not found: the no-default-STUN patch needs updating');
  const validate = validateAddress as (addr: unknown) => unknown;
  proto.applyStunTurnServersFromOptions = function applyStunTurnServersFromOptions(this: ConnectionLike): void {
    this.stunServer = validate(this.options.stunServer);
    this.turnServer = validate(this.options.turnServer);
  };
  proto[PATCHED] = true;
}
