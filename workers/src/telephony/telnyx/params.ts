import type { PhoneCall } from '@switchboard/protocol';
import { z } from 'zod';
import { dialCallStatusOutcome } from '../dial.ts';
import type { CallStatus, DialOutcome, WebhookForm } from '../provider.ts';

/**
 * The form parameters of a TeXML webhook: the instruction fetch (the voice URL, a `<Redirect>`)
 * and the status callback, both `application/x-www-form-urlencoded` when the method is POST.
 * Telnyx documents `AccountSid`, `CallSid`, `CallSidLegacy`, `From`, `To`, `ConnectionId`,
 * `ApiVersion` and `CallStatus` as always present on an instruction fetch, and many more per verb
 * and event; only what the edge uses is checked, everything else passes through. `Direction` is
 * not among the documented parameters, so it is optional. `CallSid` is `v3:...` on current calls,
 * but Telnyx's own examples also show UUIDs, so any non-empty id of PhoneCall's length is taken.
 */
export const TexmlWebhookParams = z.looseObject({
  CallSid: z.string().min(1).max(256),
  From: z.string(),
  To: z.string(),
  AccountSid: z.string().optional(),
  CallSidLegacy: z.string().optional(),
  ConnectionId: z.string().optional(),
  CallStatus: z.string().optional(),
  Direction: z.string().optional(),
});
export type TexmlWebhookParams = z.infer<typeof TexmlWebhookParams>;

/** The call a webhook describes: `Direction` `outbound*` (e.g. `outbound-api`) is outbound, anything else or none inbound. */
export function toPhoneCall(params: TexmlWebhookParams): PhoneCall {
  return {
    provider: 'telnyx',
    callSid: params.CallSid,
    from: params.From,
    to: params.To,
    direction: params.Direction?.startsWith('outbound') ? 'outbound' : 'inbound',
  };
}

/**
 * The terminal states of a TeXML call (the `completed` status callback carries `completed`,
 * `no-answer`, `busy`, `failed` or `canceled`); `initiated`, `ringing`, `in-progress` and anything
 * unknown change nothing.
 */
const TERMINAL: ReadonlySet<string> = new Set(['completed', 'busy', 'failed', 'no-answer', 'canceled']);

export function toCallStatus(params: Pick<TexmlWebhookParams, 'CallStatus'>): CallStatus {
  const status = params.CallStatus ?? '';
  return TERMINAL.has(status) ? (status as CallStatus) : 'other';
}

/**
 * The outcome of a TeXML `<Dial>`, from the action request's `DialCallStatus` (TeXML mirrors
 * Twilio's: completed, busy, no-answer, failed, canceled; `answered` is taken as completed).
 * Missing or unknown values are `failed`.
 */
export function dialOutcome(form: WebhookForm): DialOutcome {
  return dialCallStatusOutcome(form);
}
