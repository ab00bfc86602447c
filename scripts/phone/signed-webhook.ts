import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';

/**
 * A provider's HTTP requests to the edge: form-encoded. By default signed as Twilio signs them,
 * with `X-Twilio-Signature` computed by the twilio package itself (an implementation independent
 * of the edge's WebCrypto validator) over the URL Twilio believes it is calling and the form
 * parameters; `sign` replaces that with another provider's headers.
 */
export type FormParams = Record<string, string>;

/** What a provider signs: the method, the URL it believes it calls (GET: with the query), the params and the raw body. */
export interface SigningInput {
  method: 'GET' | 'POST';
  signedUrl: string;
  params: FormParams;
  body: string;
}
export type Signer = (input: SigningInput) => Record<string, string>;

export interface WebhookAnswer {
  status: number;
  contentType: string;
  body: string;
  /** Request sent -> whole answer read, in ms. */
  ms: number;
}

export function twilioSignature(authToken: string, signedUrl: string, params: FormParams): string {
  return getExpectedTwilioSignature(authToken, signedUrl, params);
}

/** Longest wait for one webhook answer: Twilio itself gives up after 15 s. */
export const WEBHOOK_TIMEOUT_MS = 15_000;
/**
 * Twilio retries a webhook whose connection failed once by default (its connection overrides'
 * `rc`, retry count, is 1): a request that met a connection reset or a refused connection is
 * sent once more, signed the same way.
 */
export const WEBHOOK_RETRIES = 1;

/**
 * Sends one signed webhook. POST puts the params in the body; GET (a `<Redirect method="GET">`)
 * puts them in the query string and signs the resulting URL with no params, as Twilio does.
 * A failed connection is retried WEBHOOK_RETRIES times, as Twilio does; network failures and
 * timeouts then reject with the URL in the message.
 */
export async function sendWebhook(req: Parameters<typeof sendOnce>[0]): Promise<WebhookAnswer> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await sendOnce(req);
    } catch (err) {
      if (attempt >= WEBHOOK_RETRIES || !(err instanceof ConnectionFailed)) throw err;
    }
  }
}

/** The request never got an answer because its connection failed (not a timeout or an abort). */
class ConnectionFailed extends Error {}

async function sendOnce(req: {
  method?: 'GET' | 'POST';
  signedUrl: string;
  requestUrl: string;
  params: FormParams;
  /** Twilio auth token for the default signing (unused when `sign` is given). */
  authToken?: string;
  sign?: Signer;
  signal?: AbortSignal;
  timeoutMs?: number;
}): Promise<WebhookAnswer> {
  const method = req.method ?? 'POST';
  const timeoutMs = req.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  const query = new URLSearchParams(req.params).toString();
  const withQuery = (url: string) => (method === 'GET' && query ? `${url}${url.includes('?') ? '&' : '?'}${query}` : url);
  const signedUrl = withQuery(req.signedUrl);
  const sentBody = method === 'POST' ? query : '';
  const headers: Record<string, string> = req.sign
    ? req.sign({ method, signedUrl, params: method === 'GET' ? {} : req.params, body: sentBody })
    : {
        'X-Twilio-Signature': twilioSignature(req.authToken ?? '', signedUrl, method === 'GET' ? {} : req.params),
        'User-Agent': 'TwilioProxy/1.1',
      };
  if (method === 'POST') headers['Content-Type'] = 'application/x-www-form-urlencoded';
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  const t0 = performance.now();
  try {
    const res = await fetch(withQuery(req.requestUrl), { method, headers, body: method === 'POST' ? sentBody : undefined, signal, redirect: 'manual' });
    const body = await res.text();
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', body, ms: performance.now() - t0 };
  } catch (err) {
    if (req.signal?.aborted) throw req.signal.reason;
    if (timeout.aborted) throw new Error(`${method} ${req.requestUrl}: no answer within ${timeoutMs} ms`);
    throw new ConnectionFailed(`${method} ${req.requestUrl} failed: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`);
  }
}

/** The first `n` characters of a body, on one line, for error messages. */
export function bodyStart(body: string, n = 120): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > n ? `${flat.slice(0, n)}...` : flat || '(empty body)';
}
