import { SELF } from 'cloudflare:test';
import { computePlivoSignatureV3 } from '../../src/telephony/plivo/signature.ts';
import { randomHex } from './media.ts';

/** Plivo's auth token in the test Worker (vitest.config.ts PLIVO_AUTH_TOKEN). */
export const PLIVO_AUTH_TOKEN = 'test-plivo-auth-token';
/** PUBLIC_BASE_URL of the test Worker (its default): what Plivo was given, so what it signs. */
const BASE = 'http://127.0.0.1:8787';

/** A Plivo CallUUID (a UUID). */
export const plivoCallUuid = () => {
  const h = randomHex(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

/** The fields Plivo posts to an answer URL for an inbound call (a realistic subset). */
export function plivoForm(callUuid: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    CallUUID: callUuid,
    From: '15557654321',
    To: '15550001111',
    Direction: 'inbound',
    CallStatus: 'in-progress',
    Event: 'StartApp',
    BillRate: '0.0085',
    ...extra,
  };
}

/**
 * POSTs a form to `path` with Plivo's V3 signature over PUBLIC_BASE_URL + path and the params.
 * `headerNonce` sends another nonce than the one signed; `token` signs with another auth token;
 * `tamper` changes a param after signing; `signedBase` signs another URL's base.
 */
export async function postPlivo(
  path: string,
  form: Record<string, string>,
  opts: { headerNonce?: string; token?: string; tamper?: boolean; signedBase?: string } = {},
) {
  const nonce = randomHex(10);
  const signature = await computePlivoSignatureV3(opts.token ?? PLIVO_AUTH_TOKEN, (opts.signedBase ?? BASE) + path, nonce, form, 'POST');
  const body = new URLSearchParams(opts.tamper ? { ...form, From: '10000000000' } : form).toString();
  return SELF.fetch(`http://edge.test${path}`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      'X-Plivo-Signature-V3': signature,
      'X-Plivo-Signature-V3-Nonce': opts.headerNonce ?? nonce,
    },
    body,
  });
}

/** The stream URL of a Plivo XML `<Stream>` (its text content). */
export function plivoStreamUrl(xml: string): string | undefined {
  return /<Stream [^>]*>([^<]+)<\/Stream>/.exec(xml)?.[1];
}

/** Plivo's `start` of stream `streamId` on call `callId` (Plivo sends no `connected` first). */
export function plivoStart(streamId: string, callId: string): string {
  return JSON.stringify({
    event: 'start',
    sequenceNumber: 0,
    start: {
      callId,
      streamId,
      accountId: 'MA0000000000000000',
      tracks: ['inbound'],
      mediaFormat: { encoding: 'audio/x-l16', sampleRate: 16000 },
    },
    extra_headers: '',
  });
}
