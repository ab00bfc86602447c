import type { Server } from 'node:http';
import { LOCAL_DEFAULTS } from './config.ts';
import { startFakePlivoApi } from './plivo-api-fake.ts';
import { startFakeTelnyxApi } from './telnyx-api-fake.ts';
import { startFakeTwilioApi } from './twilio-api-fake.ts';

/**
 * Where `npm start` runs the protocol-level fakes of the providers' REST APIs (calls placed,
 * hung up, redirected), so dialling from the demo page works on a machine with no provider
 * account, and `npm run phone -- --answer` answers those calls as the callee.
 */
export const LOCAL_PROVIDER_API_PORTS = { twilio: 8791, telnyx: 8792, plivo: 8793 } as const;
export const localProviderApiUrl = (provider: keyof typeof LOCAL_PROVIDER_API_PORTS) => `http://127.0.0.1:${LOCAL_PROVIDER_API_PORTS[provider]}`;

/** The provider API fakes started, the edge variables pointing at them, and their stop. */
export interface LocalProviderApis {
  vars: Record<string, string>;
  started: string[];
  stop: () => Promise<void>;
}

/**
 * Starts a fake for each provider whose API the environment does not configure (no `*_API_BASE`
 * and no credentials of its own); returns the edge variables pointing at them, with a local caller
 * id (and Telnyx's key and application) where none is set.
 */
export async function startLocalProviderApis(env: NodeJS.ProcessEnv): Promise<LocalProviderApis> {
  const servers: Server[] = [];
  const vars: Record<string, string> = {};
  const started: string[] = [];
  // Telnyx's key is its account: set, it is the real API's (the local key below is only for the fake).
  const configured = (base: string, secret: string) => Boolean(env[base] || env[secret]);
  if (!configured('TWILIO_API_BASE', 'TWILIO_AUTH_TOKEN')) {
    const api = await startFakeTwilioApi(LOCAL_PROVIDER_API_PORTS.twilio);
    servers.push(api.server);
    vars['TWILIO_API_BASE'] = api.url;
    if (!env['TWILIO_FROM']) vars['TWILIO_FROM'] = '+15550100000';
    started.push(`twilio ${api.url}`);
  }
  if (!configured('TELNYX_API_BASE', 'TELNYX_API_KEY')) {
    const api = await startFakeTelnyxApi(LOCAL_PROVIDER_API_PORTS.telnyx);
    servers.push(api.server);
    vars['TELNYX_API_BASE'] = api.url;
    if (!env['TELNYX_API_KEY']) vars['TELNYX_API_KEY'] = 'local-telnyx-api-key';
    if (!env['TELNYX_APP_ID']) vars['TELNYX_APP_ID'] = 'local-texml-app';
    if (!env['TELNYX_FROM']) vars['TELNYX_FROM'] = '+15550100100';
    started.push(`telnyx ${api.url}`);
  }
  if (!configured('PLIVO_API_BASE', 'PLIVO_AUTH_TOKEN')) {
    const api = await startFakePlivoApi({ authId: LOCAL_DEFAULTS.PLIVO_AUTH_ID!, authToken: LOCAL_DEFAULTS.PLIVO_AUTH_TOKEN! }, LOCAL_PROVIDER_API_PORTS.plivo);
    servers.push(api.server);
    vars['PLIVO_API_BASE'] = api.url;
    if (!env['PLIVO_FROM']) vars['PLIVO_FROM'] = '15550100200';
    started.push(`plivo ${api.url}`);
  }
  const stop = async () => {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  };
  return { vars, started, stop };
}
