import type { PhoneCall } from '@switchboard/protocol';
import { z } from 'zod';
import { formValue } from '../dial.ts';
import type { CallStatus, DialOutcome, WebhookForm } from '../provider.ts';

/**
 * The parameters Plivo sends with every voice webhook (answer_url, hangup_url, a `<Redirect>`
 * target), as a form body: CallUUID, From, To, Direction, CallStatus; for calls placed through the
 * Call API also RequestUUID and/or ALegRequestUUID (the API's `request_uuid`); on the hang-up
 * HangupCause, Duration, BillDuration. Plivo sends numbers as country code and number without `+`
 * (`14155550100`), or a SIP URI; they are kept as sent. Other parameters are allowed and ignored.
 * A repeated name (an array from `parseForm`) is not a valid value for any of these.
 */

const Id = z.string().max(256);
const Text = z.string().max(1024);

export const PlivoCallParams = z
  .looseObject({
    /** Plivo's id of this call leg; may be empty on the hang-up of an API call that never connected. */
    CallUUID: Id.default(''),
    From: Text.default(''),
    To: Text.default(''),
    /** `inbound` for a call to one of our numbers, `outbound` for a call placed through the Call API. */
    Direction: z
      .string()
      .transform((s) => s.toLowerCase())
      .pipe(z.enum(['inbound', 'outbound'])),
    /** ringing, in-progress, completed; for outbound calls also busy, failed, timeout, no-answer, cancel. */
    CallStatus: z.string().max(64).default(''),
    /** The Call API's `request_uuid` that placed this call (outbound only). */
    RequestUUID: Id.optional(),
    /** The `request_uuid` of the call's first leg; for a call placed through the API, its own. */
    ALegRequestUUID: Id.optional(),
    ALegUUID: Id.optional(),
    HangupCause: Text.optional(),
    Duration: z.string().max(32).optional(),
    BillDuration: z.string().max(32).optional(),
  })
  .refine((p) => plivoCallId(p) !== '', { message: 'no CallUUID (nor RequestUUID for an outbound call)' });
export type PlivoCallParams = z.infer<typeof PlivoCallParams>;

/**
 * The call's stable id, the same in every webhook of one call and equal to what `placeCall`
 * returned for a call we placed:
 * - outbound: the Call API answers only `request_uuid`, before any CallUUID exists, and Plivo
 *   carries that value in the call's webhooks as RequestUUID (hang-up, and the answer request on
 *   the current platform) and ALegRequestUUID (answer and redirect requests): RequestUUID, else
 *   ALegRequestUUID, else CallUUID. On the current platform CallUUID also equals request_uuid for a
 *   single-destination call, so the fallback agrees; a never-connected call's hang-up may carry an
 *   empty CallUUID but still carries RequestUUID.
 * - inbound: no API request exists; CallUUID is the id.
 */
export function plivoCallId(p: {
  Direction: 'inbound' | 'outbound';
  CallUUID: string;
  RequestUUID?: string | undefined;
  ALegRequestUUID?: string | undefined;
}): string {
  if (p.Direction === 'outbound') return p.RequestUUID || p.ALegRequestUUID || p.CallUUID;
  return p.CallUUID;
}

/** The session's record of the call. */
export function toPhoneCall(p: PlivoCallParams): PhoneCall {
  return { provider: 'plivo', callSid: plivoCallId(p), from: p.From, to: p.To, direction: p.Direction };
}

/**
 * Plivo's CallStatus, normalised. `timeout` is, in Plivo's words, a timeout while connecting the
 * call (a terminating carrier's issue or network lag), not an unanswered ring, so it is a failure;
 * `cancel` (the caller gave up) is `canceled`; ringing and in-progress change nothing.
 */
export function toCallStatus(p: { CallStatus: string }): CallStatus {
  switch (p.CallStatus.toLowerCase()) {
    case 'completed':
      return 'completed';
    case 'busy':
      return 'busy';
    case 'failed':
    case 'timeout':
      return 'failed';
    case 'no-answer':
      return 'no-answer';
    case 'cancel':
      return 'canceled';
    default:
      return 'other';
  }
}

/** A Plivo hang-up cause, in either of its spellings ("Busy Line", "USER_BUSY"), as an outcome. */
function causeOutcome(cause: string): DialOutcome | undefined {
  const c = cause.toLowerCase().replace(/[^a-z]/g, '');
  if (c.includes('cancel')) return 'canceled';
  if (c.includes('busy')) return 'busy';
  if (c.includes('noanswer') || c.includes('ringtimeout') || c.includes('nouserresponse')) return 'no-answer';
  return undefined;
}

/**
 * The outcome of a Plivo `<Dial>`, from the action request's `DialStatus` (completed, busy,
 * failed, timeout, no-answer) and, where the status alone is vague, `DialHangupCause`:
 * - `failed` is refined by the cause (busy line, no answer, canceled), else stays `failed`;
 * - `timeout` is refined the same way; without a telling cause it is `no-answer`, since the
 *   Dial's `timeout` is the time the called party has to answer;
 * - `cancel` (CallStatus's word) is `canceled`. Missing or unknown values are `failed`.
 */
export function dialOutcome(form: WebhookForm): DialOutcome {
  const cause = causeOutcome(formValue(form, 'DialHangupCause'));
  switch (formValue(form, 'DialStatus').trim().toLowerCase()) {
    case 'completed':
      return 'completed';
    case 'busy':
      return 'busy';
    case 'no-answer':
      return 'no-answer';
    case 'cancel':
    case 'canceled':
      return 'canceled';
    case 'timeout':
      return cause ?? 'no-answer';
    case 'failed':
      return cause ?? 'failed';
    default:
      return 'failed';
  }
}
