import { afterEach, describe, expect, it } from 'vitest';
import { LOCAL_PROVIDER_API_PORTS, startLocalProviderApis } from '../scripts/stack/local-provider-apis.ts';

/** `npm start`'s fakes of the providers' REST APIs: started only for providers with no account configured. */
describe('startLocalProviderApis', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });

  it('starts a fake for each provider with no account, on its fixed port, with local caller ids', async () => {
    const r = await startLocalProviderApis({});
    stop = r.stop;
    expect(r.vars).toMatchObject({
      TWILIO_API_BASE: `http://127.0.0.1:${LOCAL_PROVIDER_API_PORTS.twilio}`,
      TELNYX_API_BASE: `http://127.0.0.1:${LOCAL_PROVIDER_API_PORTS.telnyx}`,
      PLIVO_API_BASE: `http://127.0.0.1:${LOCAL_PROVIDER_API_PORTS.plivo}`,
      TWILIO_FROM: '+15550100000',
      PLIVO_FROM: '15550100200',
    });
    expect(await (await fetch(`${r.vars['TWILIO_API_BASE']}/__requests`)).json()).toEqual([]);
  });

  it('leaves a provider whose account is configured to its real API', async () => {
    const r = await startLocalProviderApis({ TWILIO_AUTH_TOKEN: 'real', TWILIO_FROM: '+15557654321', PLIVO_API_BASE: 'https://api.plivo.com' });
    stop = r.stop;
    expect(r.vars['TWILIO_API_BASE']).toBeUndefined();
    expect(r.vars['TWILIO_FROM']).toBeUndefined();
    expect(r.vars['PLIVO_API_BASE']).toBeUndefined();
    expect(r.started).toEqual([`telnyx http://127.0.0.1:${LOCAL_PROVIDER_API_PORTS.telnyx}`]);
  });
});
