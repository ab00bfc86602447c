import type { DialVerb } from '../dial-markup.ts';
import type { Codec } from '../pcm.ts';
import type { FormParams, WebhookAnswer } from '../signed-webhook.ts';

/**
 * What the provider-neutral call driver needs from each provider: its webhooks (params and
 * signing), its markup, its media stream protocol, and how a call's end is reported.
 */
export type Provider = 'twilio' | 'telnyx' | 'plivo';

/** A stream the markup asks for, with the audio formats it implies. */
export interface StreamTarget {
  url: string;
  /** Custom parameters handed to the stream's start message. */
  parameters: Record<string, string>;
  /** Requested when the stream ends without the call ending (Twilio's `<Connect action>`). */
  action?: { url: string; method: 'GET' | 'POST' };
  /** What the caller's audio is sent as. */
  inbound: Codec;
  /** What the server's audio must be sent as (and is decoded as). */
  outbound: Codec;
  /** Why the provider would not play server audio on this stream (e.g. not bidirectional), if so. */
  playbackProblem?: string;
  /** The markup hangs up this long after the stream starts (`<Start><Stream>` then pauses). */
  endsAfterS?: number;
}

/** What the markup says to do next. */
export type MarkupAction =
  | { connect: StreamTarget }
  | { redirect: { url: string; method: 'GET' | 'POST'; pauseS: number; say: string } }
  | { hangup: { say: string } }
  | { dial: DialVerb & { then: MarkupAction } };

/** How a dialed party's leg ends (Twilio's and Telnyx's DialCallStatus, Plivo's DialStatus). */
export type DialOutcome = 'completed' | 'busy' | 'no-answer' | 'failed';

/** One server frame, as the provider understands it. */
export type ServerMessage =
  | { event: 'media'; pcm: Int16Array }
  | { event: 'mark'; name: string }
  | { event: 'clear' };

/** The messages of one media stream (one WebSocket connection). */
export interface StreamProtocol {
  readonly streamId: string;
  /** Sent as soon as the socket opens (Twilio/Telnyx: connected + start; Plivo: start). */
  opening(): string[];
  /** One inbound frame of encoded caller audio; `timestampMs` counts from the stream's start. */
  media(payload: Uint8Array, timestampMs: number): string;
  dtmf(digit: string): string;
  /** The answer to a mark / checkpoint once played. */
  markReached(name: string): string;
  /** Whether `clear` answers the pending marks (Twilio, Telnyx) or drops them (Plivo). */
  readonly clearAnswersMarks: boolean;
  /** The acknowledgement of a clear (Plivo's clearedAudio), or null when none is sent. */
  cleared(): string | null;
  /** The last message at hang-up, or null when the provider just closes the socket (Plivo). */
  stop(): string | null;
  /** Reads one server frame; throws an Error naming what the provider would reject. */
  parse(data: string, isBinary: boolean): ServerMessage;
}

export interface CallEndReport {
  status: number | null;
  ms: number;
  error?: string;
}

export interface ProviderAdapter {
  readonly provider: Provider;
  readonly callSid: string;
  /** The public URL of the first webhook. */
  readonly firstUrl: string;
  /** Header named in errors when the edge refuses a request (403). */
  readonly signatureHeader: string;
  /** One signed instruction request; `first` is the call's first one. */
  webhook(req: { method: 'GET' | 'POST'; url: string; first: boolean; extra?: FormParams; signal?: AbortSignal }): Promise<WebhookAnswer>;
  /** The fields a `<Dial action>` request adds to the usual ones for this outcome (`talkS`: the bridged leg's length). */
  dialParams(outcome: DialOutcome, talkS: number): FormParams;
  /** Reads a markup answer; throws MarkupError when unusable. */
  markup(body: string, documentUrl: string): MarkupAction;
  /** Headers of the stream's WebSocket upgrade. */
  upgradeHeaders(streamUrl: string): Record<string, string>;
  stream(target: StreamTarget): StreamProtocol;
  /** The end-of-call request (status callback / hangup URL), signed, after the call's `durationS`. */
  end(durationS: number): Promise<WebhookAnswer & { url: string }>;
}

/** What every adapter is built from. */
export interface CallContext {
  /** The edge's public base URL (what is signed) and where it is reached. */
  publicBase: string;
  base: string;
  from: string;
  to: string;
  /** Answering a call the edge placed through the provider's REST API. */
  outbound: boolean;
  callSid?: string;
  /** Where the first instruction request goes (the REST request's Url / answer_url); default the edge's voice path. */
  voiceUrl?: string;
  /** Where the end-of-call request goes (StatusCallback / hangup_url); default the edge's status path. */
  statusCallbackUrl?: string;
}
