import type { IceServer } from '@switchboard/protocol';
import type { Config } from '../config.ts';
import { badGateway, HttpError, serverMisconfigured } from '../errors.ts';
import { cloudflareIceServers } from './cloudflare.ts';
import { coturnIceServers } from './coturn.ts';
import { isolateProviderHealth, type ProviderHealth } from './health.ts';
import { noTurnIceServers } from './none.ts';
import type { TurnProviderName } from './providers.ts';
import { twilioIceServers } from './twilio.ts';
import { UPSTREAM_TIMEOUT_MS } from './upstream.ts';

export interface MintedIceServers {
  iceServers: IceServer[];
  /** Epoch ms when the TURN credentials stop working; null when nothing expires. */
  expiresAt: number | null;
}

/**
 * ICE servers with fresh TURN credentials from the providers of TURN_PROVIDER, in order: when one
 * fails (an HttpError: unreachable, timed out after `timeoutMs`, a bad answer, or missing
 * settings) the next one serves, and the answer is the same as if it had been first; which one
 * failed, and why, goes only to the log. A provider that failed within the cooldown is tried
 * after the others (health.ts). `user` names who gets them (`client:<id>`, `worker:<sessionId>`);
 * only coturn embeds it in the username.
 *
 * With one provider its own error is thrown unchanged (500 `misconfigured`, 502 `upstream_failed`);
 * when every provider of a list fails: 500 `misconfigured` if none of them is configured, else 502
 * `upstream_failed`, the message joining each provider's (secret-free) reason.
 * `fetchFn`, `now`, `timeoutMs` (per provider) and `health` are injectable for tests.
 */
export async function mintIceServers(
  config: Config,
  user: string,
  fetchFn: typeof fetch = fetch,
  now: number = Date.now(),
  timeoutMs: number = UPSTREAM_TIMEOUT_MS,
  health: ProviderHealth = isolateProviderHealth,
): Promise<MintedIceServers> {
  const order = health.order(config.TURN_PROVIDER, now);
  const failures: { name: TurnProviderName; err: HttpError }[] = [];
  for (const [i, name] of order.entries()) {
    try {
      const minted = await mintFrom(name, config, user, fetchFn, now, timeoutMs);
      health.succeeded(name);
      return minted;
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      if (order.length === 1) throw err;
      health.failed(name, now);
      failures.push({ name, err });
      const next = order[i + 1];
      console.warn(`TURN provider ${name} failed (${err.code}: ${err.message}); ${next ? `trying ${next}` : 'no provider left'}`);
    }
  }
  const reasons = failures.map((f) => f.err.message).join('; ');
  const names = failures.map((f) => f.name).join(', ');
  if (failures.every((f) => f.err.code === 'misconfigured')) throw serverMisconfigured(`no TURN provider is configured (${names}): ${reasons}`);
  throw badGateway(`every TURN provider failed (${names}): ${reasons}`);
}

function mintFrom(
  name: TurnProviderName,
  config: Config,
  user: string,
  fetchFn: typeof fetch,
  now: number,
  timeoutMs: number,
): Promise<MintedIceServers> {
  switch (name) {
    case 'none':
      return Promise.resolve(noTurnIceServers(config));
    case 'coturn':
      return coturnIceServers(config, user, now);
    case 'cloudflare':
      return cloudflareIceServers(config, fetchFn, now, timeoutMs);
    case 'twilio':
      return twilioIceServers(config, fetchFn, now, timeoutMs);
  }
}
