import { resolve } from 'node:path';

/**
 * The configuration of docs/ARCHITECTURE.md and the README, as environment variables. `npm start` passes every one
 * that is set to each component, over the local defaults below.
 */
export const EDGE_VARS = [
  'AUTH_MODE', 'API_KEYS', 'TOKEN_SECRET', 'PUBLIC_BASE_URL',
  'TURN_PROVIDER', 'TURN_URLS', 'TURN_SECRET', 'TURN_TTL_S', 'STUN_URLS',
  'CLOUDFLARE_TURN_KEY_ID', 'CLOUDFLARE_TURN_KEY_API_TOKEN', 'CLOUDFLARE_TURN_API_BASE',
  'TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_API_BASE', 'TWILIO_FROM', 'TWILIO_SHARED_KEY_SECRETS',
  'TELEPHONY_PROVIDER', 'TELNYX_PUBLIC_KEY', 'TELNYX_API_KEY', 'TELNYX_API_BASE', 'TELNYX_APP_ID', 'TELNYX_FROM',
  'PLIVO_AUTH_ID', 'PLIVO_AUTH_TOKEN', 'PLIVO_API_BASE', 'PLIVO_FROM',
  'SQS_QUEUE_URL', 'SQS_ENDPOINT', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY',
  'CONTROL_SECRET', 'CLAIM_TIMEOUT_MS', 'PHONE_WAIT_MS', 'PHONE_WEBHOOK_WAIT_MS', 'SESSION_TIME_LIMIT_MS',
  'MAX_SESSIONS_PER_CLIENT', 'CORS_ORIGINS',
] as const;

/** Local-only defaults: never valid in production, where every secret is set explicitly. */
export const LOCAL_DEFAULTS: Record<string, string> = {
  AUTH_MODE: 'none',
  PUBLIC_BASE_URL: 'http://127.0.0.1:8787',
  TURN_PROVIDER: 'none',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  CONTROL_SECRET: 'local-control-secret-change-me',
  TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
  TWILIO_AUTH_TOKEN: 'local-twilio-auth-token',
  TOKEN_SECRET: 'local-token-secret-change-me',
  // The public half of LOCAL_TELNYX_SIGNING_KEY below: the local edge checks the simulator's signatures with it.
  TELNYX_PUBLIC_KEY: 's1t1XnKXSoal78LzHjXjIx0pN6yoffrqr3igxjCQMjs=',
  PLIVO_AUTH_ID: 'MA00000000000000LOCAL',
  PLIVO_AUTH_TOKEN: 'local-plivo-auth-token',
};

/**
 * A local-only Ed25519 key (PKCS#8 DER, base64) that signs the caller simulator's Telnyx
 * webhooks, as Telnyx's own key does in production. Never used anywhere but this machine.
 */
export const LOCAL_TELNYX_SIGNING_KEY = 'MC4CAQAwBQYDK2VwBCIEICq3j2fNZKLTLJJ3aaM1souUx0bW5U1p4HX7VfC+/08F';

/** Defaults overlaid with whatever the environment sets. */
export function edgeVarsFromEnv(env: NodeJS.ProcessEnv, overrides: Record<string, string> = {}): Record<string, string> {
  const vars: Record<string, string> = { ...LOCAL_DEFAULTS };
  for (const k of EDGE_VARS) {
    const v = env[k];
    if (v !== undefined && v !== '') vars[k] = v;
  }
  return { ...vars, ...overrides };
}

/** Where `npm start` records sessions (`?record=true`, or RECORD_ALL=true) when nothing else is set. */
export const LOCAL_RECORDING_DIR = resolve(import.meta.dirname, '../../recordings');

/**
 * The workers' recording storage for a local stack: RECORDING_BUCKET (S3) or RECORDING_DIR from the
 * environment if set, else the local folder. `where` names it for the start banner.
 */
export function localRecordingVars(env: NodeJS.ProcessEnv): { vars: Record<string, string>; where: string } {
  const bucket = env['RECORDING_BUCKET'];
  if (bucket) return { vars: {}, where: `s3://${bucket}/${env['RECORDING_PREFIX'] || 'recordings/'}` };
  const dir = env['RECORDING_DIR'] || LOCAL_RECORDING_DIR;
  return { vars: { RECORDING_DIR: dir }, where: dir };
}
