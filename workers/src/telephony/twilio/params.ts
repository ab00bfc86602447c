import { dialCallStatusOutcome } from '../dial.ts';
import type { DialOutcome, WebhookForm } from '../provider.ts';

/**
 * Twilio webhook parameters the shared schema (protocol's TwilioVoiceParams) does not cover.
 *
 * The outcome of a `<Dial>`, from the action request's `DialCallStatus`: completed, answered,
 * busy, no-answer, failed or canceled (`answered` is a connected call, so `completed`). Missing
 * or unknown values are `failed`.
 */
export function dialOutcome(form: WebhookForm): DialOutcome {
  return dialCallStatusOutcome(form);
}
