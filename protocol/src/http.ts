import { z } from 'zod';
import { PhoneProvider } from './phone-provider.ts';

/** `POST /v1/tokens` body (optional) and response. */
export const TokenRequest = z.strictObject({
  /** Lifetime in ms, at most one day; default 10 minutes. */
  ttlMs: z.number().int().min(1000).max(86_400_000).optional(),
  /** Free-form caller identity carried in the token. */
  identity: z.string().max(128).optional(),
});
export type TokenRequest = z.infer<typeof TokenRequest>;
export const TokenResponse = z.strictObject({ token: z.string(), expiresAt: z.number() });

/** E.164 phone number, or a Twilio client/SIP address. */
export const PhoneAddress = z.string().regex(/^(\+[1-9]\d{6,14}|client:[\w.-]{1,64}|sip:[^\s<>]{3,256})$/, 'must be an E.164 number (+15551234567), client:name or sip:uri');

/** `POST /v1/calls` body and response; `provider` defaults to the edge's TELEPHONY_PROVIDER. */
export const CallRequest = z.strictObject({
  to: PhoneAddress,
  from: PhoneAddress.optional(),
  provider: PhoneProvider.optional(),
  /** Record the call (each leg and the mix, Ogg Opus). */
  record: z.boolean().optional(),
});
export type CallRequest = z.infer<typeof CallRequest>;
export const CallResponse = z.strictObject({ sessionId: z.string(), callSid: z.string() });
