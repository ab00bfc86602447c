import { describe, expect, it } from 'vitest';
import { Edge } from './edge.ts';
import { SwitchboardError } from './errors.ts';

type Seen = { url: string; method: string; headers: Headers; body: string | null };

/** A fetch that records requests and answers from `reply`. */
function fakeFetch(reply: (req: Seen) => Response | Promise<Response>) {
  const seen: Seen[] = [];
  const f = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = { url: String(input), method: init?.method ?? 'GET', headers: new Headers(init?.headers), body: (init?.body as string | undefined) ?? null };
    seen.push(req);
    return reply(req);
  }) as typeof fetch;
  return { f, seen };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });

describe('Edge', () => {
  it('sends the token from a function before each request and resolves the Location against the edge', async () => {
    let n = 0;
    const { f, seen } = fakeFetch(() => new Response('v=0\r\n', { status: 201, headers: { Location: '/v1/sessions/s_1', ETag: '"e1"' } }));
    const edge = new Edge({ url: 'https://edge.example/', token: () => `t${++n}`, fetch: f });
    const answer = await edge.offer('/v1/sessions', 'v=0\r\noffer');
    expect(answer).toEqual({ sdp: 'v=0\r\n', location: 'https://edge.example/v1/sessions/s_1', etag: '"e1"' });
    expect(seen[0]).toMatchObject({ url: 'https://edge.example/v1/sessions', method: 'POST', body: 'v=0\r\noffer' });
    expect(seen[0]!.headers.get('Authorization')).toBe('Bearer t1');
    expect(seen[0]!.headers.get('Content-Type')).toBe('application/sdp');
    await edge.trickle(answer.location, answer.etag, 'frag').catch(() => {});
    expect(seen[1]!.headers.get('Authorization')).toBe('Bearer t2');
    expect(seen[1]!.headers.get('If-Match')).toBe('"e1"');
    expect(seen[1]!.headers.get('Content-Type')).toBe('application/trickle-ice-sdpfrag');
  });

  it("turns the edge's JSON error into a SwitchboardError with its code, status and Retry-After", async () => {
    const { f } = fakeFetch(() => json(429, { error: { code: 'too_many_sessions', message: 'at most 5 live sessions' } }, { 'Retry-After': '7' }));
    const err = await new Edge({ url: 'http://e', fetch: f }).offer('/v1/sessions', 'v=0').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SwitchboardError);
    expect(err).toMatchObject({ code: 'too_many_sessions', status: 429, retryAfterMs: 7000, retryable: true });
    expect((err as Error).message).toBe('offer: 429 at most 5 live sessions');
  });

  it('a refusal without a JSON body still says its status; 401 is not retryable', async () => {
    const { f } = fakeFetch(() => new Response('<html>denied</html>', { status: 401, statusText: 'Unauthorized' }));
    const err = (await new Edge({ url: 'http://e', fetch: f }).iceServers().catch((e: unknown) => e)) as SwitchboardError;
    expect(err).toMatchObject({ code: 'http_401', status: 401, retryAfterMs: undefined, retryable: false });
  });

  it('an unreachable edge is a `network` error; an aborted request is `aborted`', async () => {
    const down = fakeFetch(() => Promise.reject(new TypeError('fetch failed')));
    await expect(new Edge({ url: 'http://e', fetch: down.f }).iceServers()).rejects.toMatchObject({ code: 'network' });
    const ac = new AbortController();
    ac.abort();
    await expect(new Edge({ url: 'http://e', fetch: down.f }).iceServers(ac.signal)).rejects.toMatchObject({ code: 'aborted' });
  });

  it('a 201 without an SDP answer or Location, or ICE servers without a list, is `bad_response`', async () => {
    const noLocation = fakeFetch(() => new Response('v=0\r\n', { status: 201 }));
    await expect(new Edge({ url: 'http://e', fetch: noLocation.f }).offer('/v1/sessions', 'v=0')).rejects.toMatchObject({ code: 'bad_response' });
    const noList = fakeFetch(() => json(200, { servers: [] }));
    await expect(new Edge({ url: 'http://e', fetch: noList.f }).iceServers()).rejects.toMatchObject({ code: 'bad_response' });
  });
});
