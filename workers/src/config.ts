import { z } from 'zod';
import { serverMisconfigured } from './errors.ts';

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
  'SQS_QUEUE_URL',
  'SQS_ENDPOINT',
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'CONTROL_SECRET',
  'CLAIM_TIMEOUT_MS',
  'PHONE_WAIT_MS',
  'SESSION_TIME_LIMIT_MS',
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
  TURN_PROVIDER: z.enum(['none', 'coturn', 'cloudflare', 'twilio']).default('none'),
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
  /** Hard limit on a session's life at the edge. */
  SESSION_TIME_LIMIT_MS: intMs(3_600_000),
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
  cache.set(env, r.data);
  return r.data;
}

/** A required secret; missing means the edge cannot do that job. */
export function requireSetting(value: string, name: string): string {
  if (!value) throw serverMisconfigured(`${name} is not set`);
  return value;
}
