/**
 * The telephony seam. Each provider is one module under `telephony/<provider>/`: its webhook
 * signature check, its call markup (TwiML, TeXML, Plivo XML), its REST client for outbound calls
 * and hang-up, and its webhook routes; the session's Durable Object and the media worker do not
 * know which provider carries a call beyond its name. The provider requests `voiceUrl` when the
 * callee answers and posts call progress to `statusCallbackUrl`.
 */
import type { PhoneProvider } from '@switchboard/protocol';

export interface PlaceCallRequest {
  /** The number to call (E.164, or whatever address the provider accepts). */
  to: string;
  /** Caller ID; when absent the provider's configured default is used. */
  from?: string | undefined;
  /** Webhook the provider requests (POST) for call instructions once the call connects. */
  voiceUrl: string;
  /** Webhook the provider POSTs call progress (or the hang-up) to. */
  statusCallbackUrl: string;
}

export interface PlacedCall {
  /** The provider's id for the call (Twilio `CA` + 32 hex, Telnyx `v3:...`, Plivo a request UUID). */
  callSid: string;
}

export interface TelephonyProvider {
  readonly name: PhoneProvider;
  /** Places the call; throws an `HttpError` (400 for a rejected request, 502 for upstream failure). */
  placeCall(req: PlaceCallRequest): Promise<PlacedCall>;
}

/** The markup a provider's voice webhook answers with, for each PhoneVoiceAction (voice-action.ts). */
export interface CallMarkup {
  /** Content-Type of the documents. */
  readonly contentType: string;
  /**
   * A two-way media stream to `streamUrl` (a `wss://` URL carrying the call's single-use
   * credential) that keeps the call up while it runs; `parameters` ride along where the provider
   * has custom parameters; `action`, where supported, is requested when the stream ends.
   */
  connect(args: { streamUrl: string; parameters: Record<string, string>; action: string }): string;
  /** Says `message` (nothing when empty), pauses a few seconds and requests `redirectUrl` again. */
  hold(args: { message: string; redirectUrl: string }): string;
  /** Hangs up without a word. */
  hangup(): string;
  /** Says `message`, then hangs up. */
  goodbye(message: string): string;
}

/**
 * Provider call states, normalised: `completed` ends the session as a hang-up, the failures as
 * `call_failed`; anything else (ringing, in-progress) changes nothing.
 */
export type CallStatus = 'completed' | 'busy' | 'failed' | 'no-answer' | 'canceled' | 'other';
