/**
 * The telephony seam: how the edge places an outbound phone call. Twilio implements it
 * (`twilio/rest-client.ts`); another CPaaS can be added behind the same interface. The provider
 * then calls `voiceUrl` (a TwiML-style webhook) when the callee answers and posts call progress to
 * `statusCallbackUrl`.
 */
export interface PlaceCallRequest {
  /** The number to call (E.164, or whatever address the provider accepts). */
  to: string;
  /** Caller ID; when absent the provider's configured default is used. */
  from?: string | undefined;
  /** Webhook the provider requests (POST) for call instructions once the call connects. */
  voiceUrl: string;
  /** Webhook the provider POSTs call progress to (initiated, ringing, answered, completed). */
  statusCallbackUrl: string;
}

export interface PlacedCall {
  /** The provider's id for the call (Twilio: `CA` + 32 hex digits). */
  callSid: string;
}

export interface TelephonyProvider {
  /** Places the call; throws an `HttpError` (400 for a rejected request, 502 for upstream failure). */
  placeCall(req: PlaceCallRequest): Promise<PlacedCall>;
}
