import { describe, expect, it } from 'vitest';
import { request, withEnv } from './support/edge-auth.ts';

const APP = 'https://app.example.com';

describe('CORS on /v1/ (the browser SDK calls from the application origin)', () => {
  it('answers the WHIP preflight: methods, the Authorization, Content-Type and If-Match headers', async () => {
    const res = await request(
      '/v1/sessions',
      { method: 'OPTIONS', headers: { Origin: APP, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' } },
      withEnv(),
    );
    expect(res.status).toBe(204);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect(res.headers.get('Access-Control-Allow-Methods')?.split(',')).toEqual(expect.arrayContaining(['POST', 'PATCH', 'DELETE']));
    expect(res.headers.get('Access-Control-Allow-Headers')?.toLowerCase().split(',')).toEqual(
      expect.arrayContaining(['authorization', 'content-type', 'if-match']),
    );
    expect(res.headers.get('Access-Control-Allow-Credentials')).toBeNull();
  });

  it('exposes Location, ETag and Retry-After, on errors too (the SDK reads the JSON error)', async () => {
    const ok = await request('/v1/ice-servers', { headers: { Origin: APP } }, withEnv());
    expect(ok.status).toBe(200);
    expect(ok.headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect(ok.headers.get('Access-Control-Expose-Headers')?.split(',')).toEqual(expect.arrayContaining(['Location', 'ETag', 'Retry-After']));
    const refused = await request('/v1/sessions', { method: 'POST', headers: { Origin: APP, 'Content-Type': 'text/plain' }, body: 'x' }, withEnv());
    expect(refused.status).toBe(415);
    expect(refused.headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect(await refused.json()).toMatchObject({ error: { code: expect.any(String) } });
  });

  it('with CORS_ORIGINS set, allows only those origins', async () => {
    const e = withEnv({ CORS_ORIGINS: `${APP}, https://other.example.com/` });
    const allowed = await request('/v1/ice-servers', { headers: { Origin: APP } }, e);
    expect(allowed.headers.get('Access-Control-Allow-Origin')).toBe(APP);
    expect(allowed.headers.get('Vary')).toContain('Origin');
    const other = await request('/v1/ice-servers', { headers: { Origin: 'https://other.example.com' } }, e);
    expect(other.headers.get('Access-Control-Allow-Origin')).toBe('https://other.example.com');
    const stranger = await request('/v1/ice-servers', { headers: { Origin: 'https://evil.example' } }, e);
    expect(stranger.headers.get('Access-Control-Allow-Origin')).toBeNull();
  });

  it('a bad CORS_ORIGINS is a 500 naming it', async () => {
    const res = await request('/v1/ice-servers', { headers: { Origin: APP } }, withEnv({ CORS_ORIGINS: 'app.example.com' }));
    expect(res.status).toBe(500);
    expect(JSON.stringify(await res.json())).toContain('CORS_ORIGINS');
  });
});
