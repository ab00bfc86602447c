/**
 * Why a session ended, as the closed set the protocol allows (WorkerEndReason): the label of the
 * sessionsEnded metric and the `reason` of the control `end` message. Free text (an error's
 * message, a transport's own wording) goes to `detail`, cut to the protocol's 256 characters.
 */
import { WorkerEndReason, type EndReason } from '@switchboard/protocol';

export interface SessionEnd {
  reason: WorkerEndReason;
  detail?: string;
}

/** The most `detail` the edge accepts (protocol: ControlToEdge `end`). */
export const MAX_DETAIL_CHARS = 256;

/** Transports' close reasons (transport/types.ts onClose) that are not enum values themselves. */
const TRANSPORT_REASONS: Record<string, WorkerEndReason> = {
  ended_during_answer: 'ended_during_start',
};

/** A transport's close reason onto the enum; one it does not know ends as 'error' with it as detail. */
export function transportEnd(reason: string): SessionEnd {
  const known = WorkerEndReason.safeParse(reason);
  if (known.success) return { reason: known.data };
  const mapped = TRANSPORT_REASONS[reason];
  if (mapped) return { reason: mapped };
  return { reason: 'error', detail: detailOf(`transport closed: ${reason}`) };
}

/** An unexpected failure: 'error', with the message as detail. */
export function errorEnd(err: unknown): SessionEnd {
  return { reason: 'error', detail: detailOf(err instanceof Error ? err.message : String(err)) };
}

/**
 * The edge's `hangup` (its EndReason) as the worker's reason: the edge knows the session is over,
 * so no `end` goes back; the reason only labels the metric. What has no worker-side counterpart
 * (a claim timeout, the edge's own error) is 'control_closed': the edge ended it.
 */
export function hangupEnd(reason: EndReason): SessionEnd {
  switch (reason) {
    case 'client_hangup':
      return { reason: 'client_hangup' };
    case 'phone_hangup':
    case 'call_failed':
      return { reason: 'phone_hangup', detail: reason };
    case 'time_limit':
      return { reason: 'time_limit', detail: 'the edge ended it' };
    case 'abuse':
      return { reason: 'abuse', detail: 'the edge ended it' };
    case 'transferred':
      return { reason: 'transferred' };
    default:
      return { reason: 'control_closed', detail: `the edge ended it: ${reason}` };
  }
}

export function detailOf(text: string): string {
  return text.slice(0, MAX_DETAIL_CHARS);
}
