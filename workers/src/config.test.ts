import { describe, expect, it } from 'vitest';
import { isLoopbackUrl, loadConfig } from './config.ts';

describe('loadConfig fails closed', () => {
  it('refuses AUTH_MODE=none with a public PUBLIC_BASE_URL, naming both settings', () => {
    expect(() => loadConfig({ AUTH_MODE: 'none', PUBLIC_BASE_URL: 'https://voice.example.com' })).toThrow(/AUTH_MODE.*PUBLIC_BASE_URL/);
    // Unset AUTH_MODE is none.
    expect(() => loadConfig({ PUBLIC_BASE_URL: 'https://voice.example.com' })).toThrow(/AUTH_MODE/);
  });

  it('accepts AUTH_MODE=none on loopback, and AUTH_MODE=token anywhere', () => {
    expect(loadConfig({}).AUTH_MODE).toBe('none');
    expect(loadConfig({ AUTH_MODE: 'token', PUBLIC_BASE_URL: 'https://voice.example.com' }).AUTH_MODE).toBe('token');
  });

  it('refuses a production deploy whose AUTH_MODE or PUBLIC_BASE_URL secrets are missing', () => {
    expect(() => loadConfig({ EDGE_ENV: 'production' })).toThrow(/EDGE_ENV=production needs AUTH_MODE=token and PUBLIC_BASE_URL/);
    expect(() => loadConfig({ EDGE_ENV: 'production', AUTH_MODE: 'token' })).toThrow(/PUBLIC_BASE_URL/);
    expect(() => loadConfig({ EDGE_ENV: 'production', PUBLIC_BASE_URL: 'http://127.0.0.1:8787' })).toThrow(/AUTH_MODE=token/);
    const c = loadConfig({ EDGE_ENV: 'production', AUTH_MODE: 'token', PUBLIC_BASE_URL: 'https://voice.example.com' });
    expect(c.AUTH_MODE).toBe('token');
  });

  it('reads MAX_SESSIONS_PER_CLIENT (default 5) and rejects a non-positive one', () => {
    expect(loadConfig({}).MAX_SESSIONS_PER_CLIENT).toBe(5);
    expect(loadConfig({ MAX_SESSIONS_PER_CLIENT: '1000' }).MAX_SESSIONS_PER_CLIENT).toBe(1000);
    expect(() => loadConfig({ MAX_SESSIONS_PER_CLIENT: '0' })).toThrow(/MAX_SESSIONS_PER_CLIENT/);
  });
});

describe('isLoopbackUrl', () => {
  it('is true for 127.0.0.0/8, localhost and [::1] only', () => {
    for (const u of ['http://127.0.0.1:8787', 'http://127.255.0.9', 'http://localhost', 'http://LOCALHOST:1', 'http://[::1]:8787'])
      expect(isLoopbackUrl(u), u).toBe(true);
    for (const u of ['https://voice.example.com', 'http://0.0.0.0:8787', 'http://10.77.0.1:8787', 'http://127.0.0.1.example.com', 'http://localhost.example.com', 'http://[::2]'])
      expect(isLoopbackUrl(u), u).toBe(false);
  });
});
