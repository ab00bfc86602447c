import { PhoneProvider } from '@switchboard/protocol';
import { z } from 'zod';
import { serverMisconfigured } from './errors.ts';
import { TurnProviders } from './turn/providers.ts';

/** String env vars as wrangler passes them (vars, secrets, `--var`). */
export type EnvVars = Partial<Record<(typeof VAR_NAMES)[number], string>>;

const VAR_NAMES = [
  'AUTH_MODE',
  'API_KEYS',
  'TOKEN_SECRET',
  'PUBLIC_BASE_URL',
  'TURN_PROVIDER',
  'TURN_URLS',
  'TURN_SECRET',
  'TURN_TTL_S',
  'STUN_URLS',
  'CLOUDFLARE_TURN_KEY_ID',
  'CLOUDFLARE_TURN_KEY_API_TOKEN',
  'CLOUDFLARE_TURN_API_BASE',
  'TWILIO_ACCOUNT_SID',
  'TWILIO_AUTH_TOKEN',
  'TWILIO_API_BASE',
  'TWILIO_FROM',
  'TWILIO_SHARED_KEY_SECRETS',
  'TELEPHONY_PROVIDER',
  'TELNYX_PUBLIC_KEY',
  'TELNYX_API_KEY',
  'TELNYX_API_BASE',
  'TELNYX_APP_ID',
  'TELNYX_ACCOUNT_SID',
  'TELNYX_FROM',
  'PLIVO_AUTH_ID',
  'PLIVO_AUTH_TOKEN',
  'PLIVO_API_BASE',
  'PLIVO_FROM',
  'SQS_QUEUE_URL',
  'SQS_ENDPOINT',
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'CONTROL_SECRET',
  'CLAIM_TIMEOUT_MS',
  'PHONE_WAIT_MS',
  'PHONE_WEBHOOK_WAIT_MS',
  'SESSION_TIME_LIMIT_MS',
  'MAX_SESSIONS_PER_CLIENT',
  'CORS_ORIGINS',
  'EDGE_ENV',
] as const;

const csv = z
  .string()
  .default('')
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));
const intMs = (def: number) => z.coerce.number().int().positive().default(def);

const ConfigSchema = z.object({
  AUTH_MODE: z.enum(['none', 'token']).default('none'),
  API_KEYS: csv,
  TOKEN_SECRET: z.string().default(''),
  PUBLIC_BASE_URL: z.url().default('http://127.0.0.1:8787').transform((u) => u.replace(/\/+$/, '')),
  TURN_PROVIDER: TurnProviders,
  TURN_URLS: csv,
  TURN_SECRET: z.string().default(''),
  TURN_TTL_S: z.coerce.number().int().min(60).max(172_800).default(3600),
  STUN_URLS: csv,
  CLOUDFLARE_TURN_KEY_ID: z.string().default(''),
  CLOUDFLARE_TURN_KEY_API_TOKEN: z.string().default(''),
  CLOUDFLARE_TURN_API_BASE: z.url().default('https://rtc.live.cloudflare.com'),
  TWILIO_ACCOUNT_SID: z.string().default(''),
  TWILIO_AUTH_TOKEN: z.string().default(''),
  TWILIO_API_BASE: z.url().default('https://api.twilio.com'),
  TWILIO_FROM: z.string().default(''),
  /** Secrets of Twilio webhook rules' shared keys (HMAC-SHA256 signatures); several while one is rotated. */
  TWILIO_SHARED_KEY_SECRETS: csv.refine((l) => l.length <= 4, 'at most 4 shared key secrets'),
  /** The provider of outbound calls when `POST /v1/calls` names none. */
  TELEPHONY_PROVIDER: PhoneProvider.default('twilio'),
  /** Telnyx's webhook signing key (Mission Control, Keys & Credentials: Public Key), base64 of the raw 32-byte Ed25519 key. */
  TELNYX_PUBLIC_KEY: z.string().default(''),
  /** Telnyx API v2 key (outbound calls through the TeXML Calls API). */
  TELNYX_API_KEY: z.string().default(''),
  TELNYX_API_BASE: z.url().default('https://api.telnyx.com'),
  /** The TeXML application whose number places outbound calls. */
  TELNYX_APP_ID: z.string().default(''),
  /** The Telnyx account id: with it, live calls are updated (hang-up, redirect) through TeXML's current endpoint; without, through the deprecated one that needs none. */
  TELNYX_ACCOUNT_SID: z.string().default(''),
  TELNYX_FROM: z.string().default(''),
  PLIVO_AUTH_ID: z.string().default(''),
  /** Plivo's auth token: signs its webhooks (X-Plivo-Signature-V3) and authenticates the Call API. */
  PLIVO_AUTH_TOKEN: z.string().default(''),
  PLIVO_API_BASE: z.url().default('https://api.plivo.com'),
  PLIVO_FROM: z.string().default(''),
  SQS_QUEUE_URL: z.string().default(''),
  SQS_ENDPOINT: z.string().default(''),
  AWS_REGION: z.string().default('us-east-1'),
  AWS_ACCESS_KEY_ID: z.string().default(''),
  AWS_SECRET_ACCESS_KEY: z.string().default(''),
  CONTROL_SECRET: z.string().default(''),
  /** How long a WHIP POST waits for a worker's answer before 503. */
  CLAIM_TIMEOUT_MS: intMs(10_000),
  /** How long a phone caller is kept on hold (TwiML redirects) waiting for a worker. */
  PHONE_WAIT_MS: intMs(30_000),
  /**
   * How long one voice webhook waits for a worker's claim before answering with a hold and a
   * redirect: a worker usually claims within a second, and connecting in the first answer spares
   * the caller the hold message and a webhook round trip.
   */
  PHONE_WEBHOOK_WAIT_MS: z.coerce.number().int().min(0).max(10_000).default(3000),
  /** Hard limit on a session's life at the edge. */
  SESSION_TIME_LIMIT_MS: intMs(3_600_000),
  /** Live WebRTC sessions per client (token subject; address with AUTH_MODE=none). */
  MAX_SESSIONS_PER_CLIENT: z.coerce.number().int().min(1).max(10_000).default(5),
  /**
   * Web origins whose pages may call `/v1/` (CORS), comma-separated, or `*` for any. The API
   * authenticates with bearer tokens, never cookies, so a page can only use a token it was given.
   */
  CORS_ORIGINS: z
    .string()
    .default('*')
    .transform((s) => s.split(',').map((x) => x.trim().replace(/\/+$/, '')).filter(Boolean))
    .pipe(z.array(z.union([z.literal('*'), z.url({ protocol: /^https?$/ })])).min(1, 'CORS_ORIGINS: list origins such as https://app.example.com, or *')),
  /** `production` (a var of wrangler.jsonc's env.production): no local defaults for auth and the URL. */
  EDGE_ENV: z.enum(['local', 'production']).default('local'),
});
export type Config = z.infer<typeof ConfigSchema>;

const cache = new WeakMap<object, Config>();

/** Parses the env once per env object; a bad value is a 500 naming the variable. */
export function loadConfig(env: EnvVars): Config {
  const hit = cache.get(env);
  if (hit) return hit;
  const picked: Record<string, string> = {};
  for (const k of VAR_NAMES) {
    const v = env[k];
    if (typeof v === 'string' && v !== '') picked[k] = v;
  }
  const r = ConfigSchema.safeParse(picked);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw serverMisconfigured(`invalid configuration ${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`);
  }
  // Fail closed: a production deploy whose secrets were never set would otherwise run on the
  // local defaults (AUTH_MODE=none on a loopback PUBLIC_BASE_URL), open to anyone.
  if (r.data.EDGE_ENV === 'production' && (r.data.AUTH_MODE !== 'token' || picked['PUBLIC_BASE_URL'] === undefined))
    throw serverMisconfigured('EDGE_ENV=production needs AUTH_MODE=token and PUBLIC_BASE_URL: set them as secrets (Terraform edge_secrets)');
  // Fail closed: an open edge (no authentication) is only for this machine.
  if (r.data.AUTH_MODE === 'none' && !isLoopbackUrl(r.data.PUBLIC_BASE_URL))
    throw serverMisconfigured(
      `AUTH_MODE=none is allowed only when PUBLIC_BASE_URL is loopback (127.0.0.0/8, localhost, [::1]); PUBLIC_BASE_URL is ${r.data.PUBLIC_BASE_URL}: set AUTH_MODE=token`,
    );
  cache.set(env, r.data);
  return r.data;
}

/** True when the URL's host is a loopback address: 127.0.0.0/8, localhost or [::1]. */
export function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname.toLowerCase();
  if (host === 'localhost' || host === '[::1]') return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}

/** A required secret; missing means the edge cannot do that job. */
export function requireSetting(value: string, name: string): string {
  if (!value) throw serverMisconfigured(`${name} is not set`);
  return value;
}
