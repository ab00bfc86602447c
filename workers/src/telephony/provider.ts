/**
 * The telephony seam. Each provider is one module under `telephony/<provider>/`: its webhook
 * signature check, its call markup (TwiML, TeXML, Plivo XML, with `<Dial>` and its outcome), its
 * REST client (outbound calls, hang-up, redirect), and its webhook routes; the session's Durable
 * Object and the media worker do not know which provider carries a call beyond its name. The provider requests `voiceUrl` when the
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
  /**
   * Ends a live or ringing call, by the id `placeCall` returned or a webhook's call id. Idempotent:
   * a call the provider no longer knows (its 404) counts as ended. Throws an `HttpError` 502 for
   * any other upstream failure.
   */
  hangUp(callSid: string): Promise<void>;
  /**
   * Makes a live call request `url` (POST) for new markup, leaving the markup it runs (a media
   * stream ends). Throws an `HttpError`: 410 when the provider no longer knows the call, 409 when
   * it refuses because the call is not in progress, 502 for any other upstream failure.
   */
  redirect(callSid: string, url: string): Promise<void>;
}

/** What `CallMarkup.dial` dials. */
export interface DialArgs {
  /** The number to dial (E.164). */
  to: string;
  /** Caller ID shown to `to`; when absent the provider's default (the current call's number). */
  callerId?: string | undefined;
  /** Requested (POST) when the dialled call ends or fails, with its outcome (`dialOutcome`). */
  action: string;
  /** Seconds to let `to` ring; clamped to the provider's documented range. */
  timeoutS: number;
  /** Said to the current call before dialling (nothing when absent or empty). */
  message?: string | undefined;
}

/** How a `<Dial>` ended, normalised across providers. */
export type DialOutcome = 'completed' | 'busy' | 'no-answer' | 'failed' | 'canceled';

/** A webhook's form parameters as `parseForm` (form.ts) gives them. */
export type WebhookForm = Readonly<Record<string, string | readonly string[]>>;

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
  /** Optionally says `message`, then dials `args.to`; the dialled call's end requests `args.action`. */
  dial(args: DialArgs): string;
  /**
   * The outcome in the provider's request to a `dial` action URL. Anything missing or
   * unrecognised is `failed`: the dial did not connect as far as the edge can tell.
   */
  dialOutcome(form: WebhookForm): DialOutcome;
}

/**
 * Provider call states, normalised: `completed` ends the session as a hang-up, the failures as
 * `call_failed`; anything else (ringing, in-progress) changes nothing.
 */
export type CallStatus = 'completed' | 'busy' | 'failed' | 'no-answer' | 'canceled' | 'other';
