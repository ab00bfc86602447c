import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { IceServersResponse } from '@switchboard/protocol';
import { app } from '../src/app.ts';

const get = (e: object) => app.request('http://edge.test/v1/ice-servers', {}, e);

describe('GET /v1/ice-servers', () => {
  it('mints coturn REST credentials per request, dropping port-53 URLs', async () => {
    const e = {
      ...env,
      TURN_PROVIDER: 'coturn',
      TURN_SECRET: 'coturn-shared-secret',
      TURN_URLS: 'turn:127.0.0.1:3478?transport=udp,turn:127.0.0.1:53?transport=udp,turns:127.0.0.1:5349?transport=tcp',
      TURN_TTL_S: '600',
    };
    const a = IceServersResponse.parse(await (await get(e)).json());
    const b = IceServersResponse.parse(await (await get(e)).json());
    const server = a.iceServers[0]!;
    expect(server.urls).toEqual(['turn:127.0.0.1:3478?transport=udp', 'turns:127.0.0.1:5349?transport=tcp']);
    const username = server.username!;
    const expiry = username.slice(0, username.indexOf(':'));
    const user = username.slice(username.indexOf(':') + 1);
    expect(Number(expiry) * 1000).toBe(a.expiresAt);
    expect(a.expiresAt! - Date.now()).toBeGreaterThan(590_000);
    expect(a.expiresAt! - Date.now()).toBeLessThanOrEqual(600_000);
    expect(user).toMatch(/^client:/);
    expect(b.iceServers[0]!.username).not.toBe(server.username);
    // credential = base64(HMAC-SHA1(secret, username)), as coturn's use-auth-secret checks it.
    const key = await crypto.subtle.importKey('raw', new TextEncoder().encode('coturn-shared-secret'), { name: 'HMAC', hash: 'SHA-1' }, false, ['sign']);
    const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(server.username!)));
    expect(server.credential).toBe(btoa(String.fromCharCode(...mac)));
  });

  it('answers 502 with a clear message when the provider cannot be reached', async () => {
    const e = { ...env, TURN_PROVIDER: 'cloudflare', CLOUDFLARE_TURN_KEY_ID: 'k', CLOUDFLARE_TURN_KEY_API_TOKEN: 't', CLOUDFLARE_TURN_API_BASE: 'http://127.0.0.1:9' };
    const res = await get(e);
    expect(res.status).toBe(502);
    const body = await res.json<{ error: { code: string; message: string } }>();
    expect(body.error.code).toBe('upstream_failed');
    expect(body.error.message).toMatch(/cloudflare/i);
    expect(body.error.message).not.toContain('t@');
  });

  it('fails over to the next provider of TURN_PROVIDER when the first cannot be reached, saying nothing about it', async () => {
    const e = {
      ...env,
      TURN_PROVIDER: 'cloudflare,coturn',
      CLOUDFLARE_TURN_KEY_ID: 'k',
      CLOUDFLARE_TURN_KEY_API_TOKEN: 'cf-key-api-token',
      CLOUDFLARE_TURN_API_BASE: 'http://127.0.0.1:9',
      TURN_SECRET: 'coturn-shared-secret',
      TURN_URLS: 'turns:turn.example.com:443?transport=tcp',
    };
    const res = await get(e);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toMatch(/cloudflare|fail/i);
    const body = IceServersResponse.parse(JSON.parse(text));
    expect(body.iceServers).toHaveLength(1);
    expect(body.iceServers[0]!.urls).toEqual(['turns:turn.example.com:443?transport=tcp']);
    expect(body.iceServers[0]!.username).toMatch(/^\d+:client:/);
  });

  it('hands out TURN over TCP and TLS on 443 unchanged', async () => {
    const urls = ['turn:turn.example.com:443?transport=tcp', 'turns:turn.example.com:443?transport=tcp'];
    const e = { ...env, TURN_PROVIDER: 'coturn', TURN_SECRET: 'coturn-shared-secret', TURN_URLS: urls.join(',') };
    const body = IceServersResponse.parse(await (await get(e)).json());
    expect(body.iceServers.map((s) => s.urls)).toEqual([urls]);
  });

  it('refuses a TURN_PROVIDER list mixing none with providers, naming the variable', async () => {
    const res = await get({ ...env, TURN_PROVIDER: 'none,coturn' });
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ error: { code: 'misconfigured', message: expect.stringContaining('TURN_PROVIDER') } });
  });
});
