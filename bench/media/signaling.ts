import { benchClientIp } from '../stack/client-ip.ts';

/**
 * How a load peer gets its answer: pluggable, so one load generator drives both our stack (WHIP
 * to the edge) and a plain offer/answer server (the aiortc baseline).
 */
export interface SignalResult {
  answerSdp: string;
  /** Absolute URL of the session, for hangup. */
  sessionUrl?: string;
}

export interface Signaling {
  readonly kind: SignalingConfig['kind'];
  signal(offerSdp: string): Promise<SignalResult>;
  hangup?(sessionUrl: string): Promise<void>;
}

/** The JSON form (child processes get it in their config). */
export interface SignalingConfig {
  kind: 'whip' | 'plainOffer';
  /** Edge base URL (whip) or server base URL (plainOffer), without a trailing slash. */
  url: string;
}

const SIGNAL_TIMEOUT_MS = 15_000;

/** WHIP to the edge (AUTH_MODE none): POST ${edgeUrl}/v1/sessions, DELETE the Location on hangup. */
export function whip(edgeUrl: string): Signaling {
  const base = edgeUrl.replace(/\/+$/, '');
  return {
    kind: 'whip',
    // A client address per session (benchClientIp): the edge limits creation per address (120 a
    // minute), and the bench's hundreds of sessions a minute stand for many callers, not one.
    signal: (offer) => postOffer(`${base}/v1/sessions`, base, offer, benchClientIp()),
    hangup: (sessionUrl) => deleteSession(sessionUrl),
  };
}

/** POST ${baseUrl}/offer (application/sdp) -> 201 answer + Location; DELETE ${baseUrl}${location} on hangup. */
export function plainOffer(baseUrl: string): Signaling {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    kind: 'plainOffer',
    signal: (offer) => postOffer(`${base}/offer`, base, offer),
    hangup: (sessionUrl) => deleteSession(sessionUrl),
  };
}

export function signalingFrom(config: SignalingConfig): Signaling {
  if (config.kind === 'whip') return whip(config.url);
  if (config.kind === 'plainOffer') return plainOffer(config.url);
  throw new Error(`unknown signaling kind ${JSON.stringify((config as { kind: unknown }).kind)}`);
}

async function postOffer(endpoint: string, base: string, offer: string, headers: Record<string, string> = {}): Promise<SignalResult> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/sdp', ...headers },
    body: offer,
    signal: AbortSignal.timeout(SIGNAL_TIMEOUT_MS),
  });
  const body = await res.text();
  if (res.status !== 201) throw new Error(`POST ${endpoint} answered ${res.status}: ${body.slice(0, 200)}`);
  const location = res.headers.get('Location');
  if (!location) return { answerSdp: body };
  // A path (our edge answers /v1/sessions/<id>) is appended to the base, as the protocol says; a full URL is kept.
  return { answerSdp: body, sessionUrl: location.startsWith('/') ? `${base}${location}` : new URL(location, `${base}/`).href };
}

async function deleteSession(sessionUrl: string): Promise<void> {
  const res = await fetch(sessionUrl, { method: 'DELETE', signal: AbortSignal.timeout(SIGNAL_TIMEOUT_MS) });
  await res.arrayBuffer();
  if (!res.ok && res.status !== 404) throw new Error(`DELETE ${sessionUrl} answered ${res.status}`);
}
