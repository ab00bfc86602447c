import { bodyStart, type WebhookAnswer } from './signed-webhook.ts';
import { MarkupError } from './xml-doc.ts';
import type { ProviderAdapter, StreamTarget } from './providers/types.ts';

/**
 * Requests instructions (the first webhook, a redirect, or `<Connect action>`) and follows hold
 * redirects as the provider does (say, pause, then request the redirect URL) until the markup
 * connects a stream or hangs up.
 */
export type MarkupOutcome = { connect: StreamTarget } | { hangup: { say: string } };

export interface MarkupLoop {
  webhookMs: number[];
  holds: number;
  /** Whether any request was answered (the edge then holds a session for the call). */
  answered: boolean;
  run(url: string, method: 'GET' | 'POST', maxHoldMs: number): Promise<MarkupOutcome>;
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

export function markupLoop(adapter: ProviderAdapter, log: (l: string) => void, signal?: AbortSignal): MarkupLoop {
  const loop: MarkupLoop = {
    webhookMs: [],
    holds: 0,
    answered: false,
    async run(url, firstMethod, maxHoldMs) {
      const since = performance.now();
      let nextUrl = url;
      let method = firstMethod;
      for (;;) {
        const what = `${method} ${nextUrl}`;
        const a = await adapter.webhook({ method, url: nextUrl, first: loop.webhookMs.length === 0, signal });
        loop.webhookMs.push(a.ms);
        const failure = webhookFailure(what, a, adapter.signatureHeader);
        if (failure) throw failure;
        loop.answered = true;
        let action;
        try {
          action = adapter.markup(a.body, nextUrl);
        } catch (err) {
          if (err instanceof MarkupError) throw new Error(`${what} answered ${a.status} (${a.contentType || 'no content type'}) that is not usable ${markupName(adapter)}: ${err.message}; body: ${bodyStart(a.body)}`);
          throw err;
        }
        log(`webhook ${what} -> ${a.status} in ${a.ms.toFixed(0)} ms: ${'connect' in action ? 'connect' : 'redirect' in action ? 'hold' : 'hangup'}`);
        if ('connect' in action || 'hangup' in action) return action;
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

const markupName = (a: ProviderAdapter) => ({ twilio: 'TwiML', telnyx: 'TeXML', plivo: 'Plivo XML' })[a.provider];
