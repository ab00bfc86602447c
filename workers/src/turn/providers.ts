import { z } from 'zod';

export const PROVIDER_NAMES = ['none', 'coturn', 'cloudflare', 'twilio'] as const;
export type TurnProviderName = (typeof PROVIDER_NAMES)[number];

/** Longest TURN_PROVIDER list: each entry may cost one upstream timeout per mint. */
const MAX_PROVIDERS = 3;

/**
 * TURN_PROVIDER: an ordered, comma-separated list of providers (`cloudflare,twilio`); when one
 * fails the next one serves (turn/mint.ts). A single name is a list of one. `none` stands only
 * alone; a name appears once. Names are case-insensitive; spaces around commas are ignored.
 */
export const TurnProviders = z
  .string()
  .default('none')
  .transform((s) => s.split(',').map((x) => x.trim().toLowerCase()))
  .pipe(
    z
      .array(z.enum(PROVIDER_NAMES))
      .min(1)
      .max(MAX_PROVIDERS, `at most ${MAX_PROVIDERS} providers`)
      .refine((l) => new Set(l).size === l.length, { message: 'names a provider twice' })
      .refine((l) => l.length === 1 || !l.includes('none'), { message: "'none' stands alone, not in a list of providers" }),
  );
