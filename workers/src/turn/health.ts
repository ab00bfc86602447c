import type { TurnProviderName } from './providers.ts';

/**
 * How long a provider that just failed is tried last rather than first. While the primary is
 * down, each mint would otherwise wait out its timeout before the next provider serves; after the
 * cooldown the configured order applies again, so a recovered primary takes over by itself.
 */
export const FAILED_PROVIDER_COOLDOWN_MS = 30_000;

/** Recent failures of TURN providers, per isolate (workerd keeps module state between requests). */
export interface ProviderHealth {
  /** `configured` with the providers that failed within the cooldown moved to the end (stable). */
  order(configured: readonly TurnProviderName[], now: number): TurnProviderName[];
  failed(name: TurnProviderName, now: number): void;
  succeeded(name: TurnProviderName): void;
}

export function createProviderHealth(cooldownMs: number = FAILED_PROVIDER_COOLDOWN_MS): ProviderHealth {
  // At most one entry per provider name (4), so this never grows with traffic.
  const failedAt = new Map<TurnProviderName, number>();
  const cooling = (name: TurnProviderName, now: number) => {
    const at = failedAt.get(name);
    return at !== undefined && now - at < cooldownMs;
  };
  return {
    order(configured, now) {
      return [...configured.filter((n) => !cooling(n, now)), ...configured.filter((n) => cooling(n, now))];
    },
    failed(name, now) {
      failedAt.set(name, now);
    },
    succeeded(name) {
      failedAt.delete(name);
    },
  };
}

/** The isolate's shared record, used when the caller passes none. */
export const isolateProviderHealth: ProviderHealth = createProviderHealth();
