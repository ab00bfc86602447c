import type { PhoneProvider } from '@switchboard/protocol';
import type { Config } from '../config.ts';
import { plivoTelephony } from './plivo/rest-client.ts';
import type { TelephonyProvider } from './provider.ts';
import { telnyxTelephony } from './telnyx/rest-client.ts';
import { twilioTelephony } from './twilio/rest-client.ts';

/** The REST side of each provider (outbound calls, hang-up, redirect), by name. */
export function telephonyFor(config: Config, provider: PhoneProvider): TelephonyProvider {
  switch (provider) {
    case 'twilio':
      return twilioTelephony(config);
    case 'telnyx':
      return telnyxTelephony(config, fetch, config.TELNYX_ACCOUNT_SID ? { accountSid: config.TELNYX_ACCOUNT_SID } : {});
    case 'plivo':
      return plivoTelephony(config);
  }
}
