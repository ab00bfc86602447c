import type { DialVerb } from './dial-markup.ts';
import { bodyStart, type FormParams, type WebhookAnswer } from './signed-webhook.ts';
import { MarkupError } from './xml-doc.ts';
import type { MarkupAction, ProviderAdapter, StreamTarget } from './providers/types.ts';

/**
 * Requests instructions (the first webhook, a redirect, `<Connect action>`, or a redirect made
 * through the provider's REST API) and follows hold redirects as the provider does (say, pause,
 * then request the redirect URL) and dials (`dialer` plays the dialed leg and gives its outcome's
 * fields; with `action` those are posted there and its markup runs, without it the verbs after
 * the `<Dial>` run) until the markup connects a stream or hangs up.
 */
export type MarkupOutcome = { connect: StreamTarget } | { hangup: { say: string } };

/** Plays one `<Dial>` (records it, waits as the dialed leg would) and returns its action request's extra fields. */
export type Dialer = (dial: DialVerb, signal?: AbortSignal) => Promise<FormParams>;

export interface MarkupLoop {
  webhookMs: number[];
  holds: number;
  /** Whether any request was answered (the edge then holds a session for the call). */
  answered: boolean;
  /** `signal` (besides the call's) abandons this run, e.g. when the call is hung up through the REST API. */
  run(url: string, method: 'GET' | 'POST', maxHoldMs: number, signal?: AbortSignal): Promise<MarkupOutcome>;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Why an answer is unusable, or null when it is a 2xx. */
export function webhookFailure(what: string, a: WebhookAnswer, signatureHeader: string): Error | null {
  if (a.status === 403) return new Error(`${what} answered 403: the edge refused the ${signatureHeader} (credentials or public base URL differ from the edge's): ${bodyStart(a.body)}`);
  if (a.status < 200 || a.status > 299) return new Error(`${what} answered ${a.status}: ${bodyStart(a.body)}`);
  return null;
}

export function markupLoop(adapter: ProviderAdapter, log: (l: string) => void, callSignal?: AbortSignal, dialer?: Dialer): MarkupLoop {
  const loop: MarkupLoop = {
    webhookMs: [],
    holds: 0,
    answered: false,
    async run(url, firstMethod, maxHoldMs, runSignal) {
      const signal = runSignal && callSignal ? AbortSignal.any([callSignal, runSignal]) : (runSignal ?? callSignal);
      let since = performance.now();
      let nextUrl = url;
      let method = firstMethod;
      let extra: FormParams | undefined;
      for (;;) {
        const what = `${method} ${nextUrl}`;
        const a = await adapter.webhook({ method, url: nextUrl, first: loop.webhookMs.length === 0, extra, signal });
        extra = undefined;
        loop.webhookMs.push(a.ms);
        const failure = webhookFailure(what, a, adapter.signatureHeader);
        if (failure) throw failure;
        loop.answered = true;
        let action: MarkupAction;
        try {
          action = adapter.markup(a.body, nextUrl);
        } catch (err) {
          if (err instanceof MarkupError) throw new Error(`${what} answered ${a.status} (${a.contentType || 'no content type'}) that is not usable ${markupName(adapter)}: ${err.message}; body: ${bodyStart(a.body)}`);
          throw err;
        }
        log(`webhook ${what} -> ${a.status} in ${a.ms.toFixed(0)} ms: ${kind(action)}`);
        // A dial without action goes on with the verbs after it; one with action requests it.
        let dialAction: { url: string; method: 'GET' | 'POST'; fields: FormParams } | undefined;
        while ('dial' in action) {
          const dial = action.dial;
          if (!dialer) throw new Error(`${what} answered a <Dial>, which this call does not play`);
          if (dial.pauseS > 0) await sleep(dial.pauseS * 1000, signal);
          const fields = await dialer(dial, signal);
          since = performance.now(); // a bridged leg is no hold
          if (dial.action) {
            dialAction = { ...dial.action, fields };
            break;
          }
          action = dial.then;
        }
        if (dialAction) {
          ({ url: nextUrl, method, fields: extra } = dialAction);
          continue;
        }
        if ('connect' in action || 'hangup' in action) return action;
        if ('dial' in action) continue; // settled above
        const waitMs = action.redirect.pauseS * 1000;
        const heldMs = performance.now() - since;
        if (heldMs + waitMs > maxHoldMs) {
          throw new Error(`still on hold after ${Math.round(heldMs)} ms (${loop.holds} redirects; maxHoldMs ${maxHoldMs}): "${action.redirect.say}"`);
        }
        loop.holds++;
        await sleep(waitMs, signal);
        nextUrl = action.redirect.url;
        method = action.redirect.method;
      }
    },
  };
  return loop;
}

const kind = (a: MarkupAction) => ('connect' in a ? 'connect' : 'redirect' in a ? 'hold' : 'dial' in a ? `dial ${a.dial.numbers.join(', ')}` : 'hangup');
const markupName = (a: ProviderAdapter) => ({ twilio: 'TwiML', telnyx: 'TeXML', plivo: 'Plivo XML' })[a.provider];
