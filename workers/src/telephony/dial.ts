import type { DialOutcome, WebhookForm } from './provider.ts';

/**
 * Helpers shared by the providers' `<Dial>` support: the ring timeout within a provider's
 * documented range, and reading the outcome a Dial action request carries.
 */

/** The ring timeout when the caller passes something that is not a number. */
export const DEFAULT_DIAL_TIMEOUT_S = 30;

/** `timeoutS` as whole seconds within `[min, max]`; a non-finite value becomes the default (30 s). */
export function dialTimeout(timeoutS: number, min: number, max: number): number {
  const s = Number.isFinite(timeoutS) ? Math.round(timeoutS) : DEFAULT_DIAL_TIMEOUT_S;
  return Math.min(max, Math.max(min, s));
}

/** A form parameter's value (the first, when repeated), or '' when absent. */
export function formValue(form: WebhookForm, name: string): string {
  const v = Object.hasOwn(form, name) ? form[name] : undefined;
  if (v === undefined) return '';
  return typeof v === 'string' ? v : (v[0] ?? '');
}

/**
 * `DialCallStatus` as Twilio documents it and TeXML mirrors it: completed, answered (Twilio's
 * other word for a connected call that ended), busy, no-answer, failed, canceled. Case and
 * surrounding spaces are ignored; anything else is `failed`.
 */
export function dialCallStatusOutcome(form: WebhookForm): DialOutcome {
  switch (formValue(form, 'DialCallStatus').trim().toLowerCase()) {
    case 'completed':
    case 'answered':
      return 'completed';
    case 'busy':
      return 'busy';
    case 'no-answer':
      return 'no-answer';
    case 'canceled':
      return 'canceled';
    default:
      return 'failed';
  }
}
