import type { LegResponse, LegStatus, PhoneProvider } from '@switchboard/protocol';
import { SwitchboardError, errorFromResponse } from './errors.ts';

/** A client token, or a function that returns a fresh one (called before each request). */
export type TokenSource = string | (() => string | Promise<string>);

export interface EdgeOptions {
  /** The edge's base URL; relative URLs resolve against the page. */
  url: string;
  token?: TokenSource | undefined;
  fetch?: typeof fetch | undefined;
}

export interface Answer {
  sdp: string;
  /** The session's URL (WHIP `Location`), absolute. */
  location: string;
  etag: string | null;
}

/** The edge's HTTP API as this client uses it: ICE servers, WHIP create/resume, trickle, hang-up. */
export class Edge {
  private readonly base: string;
  private readonly token: TokenSource | undefined;
  private readonly fetchFn: typeof fetch;

  constructor(o: EdgeOptions) {
    this.base = new URL(o.url, globalThis.location?.href).href;
    this.token = o.token;
    // Called as a plain function: some runtimes refuse `fetch` called as another object's method.
    const f = o.fetch ?? globalThis.fetch;
    this.fetchFn = (input, init) => f(input, init);
  }

  url(path: string): string {
    return new URL(path, this.base).href;
  }

  async iceServers(signal?: AbortSignal): Promise<RTCIceServer[]> {
    const res = await this.request('/v1/ice-servers', { signal }, 'ICE servers');
    const body = (await res.json().catch(() => null)) as { iceServers?: unknown } | null;
    if (!Array.isArray(body?.iceServers)) throw new SwitchboardError('bad_response', 'ICE servers: the edge answered without iceServers');
    return body.iceServers as RTCIceServer[];
  }

  /** WHIP: posts `offer` to `path` (`/v1/sessions`, or a session's `/resume`) and returns the answer. */
  async offer(path: string, offer: string, signal?: AbortSignal): Promise<Answer> {
    const res = await this.request(path, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: offer, signal }, 'offer', 201);
    const location = res.headers.get('Location');
    const sdp = await res.text();
    if (!location || !sdp.startsWith('v=0')) throw new SwitchboardError('bad_response', 'offer: the edge answered 201 without an SDP answer and a Location');
    return { sdp, location: this.url(location), etag: res.headers.get('ETag') };
  }

  /** WHIP PATCH with trickled candidates; a session that has moved on (412, 404) is not an error worth raising. */
  async trickle(location: string, etag: string | null, body: string): Promise<void> {
    const headers: Record<string, string> = { 'Content-Type': 'application/trickle-ice-sdpfrag' };
    if (etag) headers['If-Match'] = etag;
    await this.request(location, { method: 'PATCH', headers, body }, 'trickle', 204);
  }

  async hangup(location: string): Promise<void> {
    await this.request(location, { method: 'DELETE', keepalive: true }, 'hang-up');
  }

  /** Dials `to` into the session at `location` (`POST {location}/legs`). */
  async addLeg(location: string, to: string, provider?: PhoneProvider): Promise<LegResponse> {
    const body = JSON.stringify(provider ? { to, provider } : { to });
    const leg = await this.json<Partial<LegResponse>>(`${location}/legs`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body }, 'add leg', 201);
    if (typeof leg.legId !== 'string' || typeof leg.callSid !== 'string') throw new SwitchboardError('bad_response', 'add leg: the edge answered without legId and callSid');
    return { legId: leg.legId, callSid: leg.callSid };
  }

  /** Hangs leg `legId` of the session at `location` up; resolves with its status. */
  removeLeg(location: string, legId: string): Promise<LegStatus> {
    return this.json<LegStatus>(`${location}/legs/${encodeURIComponent(legId)}`, { method: 'DELETE' }, 'remove leg');
  }

  /** The legs of the session at `location` (`GET {location}/status`): empty while it has only its caller. */
  async legs(location: string): Promise<LegStatus[]> {
    const status = await this.json<{ legs?: unknown }>(`${location}/status`, {}, 'legs');
    return Array.isArray(status.legs) ? (status.legs as LegStatus[]) : [];
  }

  /** A request whose answer is a JSON object. */
  private async json<T>(path: string, init: RequestInit, what: string, expect?: number): Promise<T> {
    const res = await this.request(path, init, what, expect);
    const body: unknown = await res.json().catch(() => null);
    if (typeof body !== 'object' || body === null) throw new SwitchboardError('bad_response', `${what}: the edge answered ${res.status} without a JSON object`);
    return body as T;
  }

  private async request(path: string, init: RequestInit, what: string, expect?: number): Promise<Response> {
    const headers = new Headers(init.headers);
    const token = typeof this.token === 'function' ? await this.token() : this.token;
    if (token) headers.set('Authorization', `Bearer ${token}`);
    let res: Response;
    try {
      res = await this.fetchFn(this.url(path), { ...init, headers });
    } catch (err) {
      if (init.signal?.aborted) throw new SwitchboardError('aborted', `${what}: aborted`, { cause: err });
      throw new SwitchboardError('network', `${what}: the edge could not be reached (${String((err as Error)?.message ?? err)})`, { cause: err });
    }
    if (expect !== undefined ? res.status !== expect : !res.ok) throw await errorFromResponse(res, what);
    return res;
  }
}
