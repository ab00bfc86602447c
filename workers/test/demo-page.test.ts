import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import client from '../generated/client.js?raw';
import css from '../public/demo.css?raw';
import js from '../public/demo.js?raw';
import html from '../public/index.html?raw';

describe('the demo page is served by the Worker', () => {
  it.each([
    ['/', html, 'text/html'],
    ['/index.html', html, 'text/html'],
    ['/demo.js', js, 'text/javascript'],
    ['/demo.css', css, 'text/css'],
    ['/client.js', client, 'text/javascript'],
  ])('GET %s returns the file from public/ with its type', async (path, body, type) => {
    const res = await SELF.fetch(`http://edge.test${path}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe(`${type}; charset=utf-8`);
    expect(await res.text()).toBe(body);
  });

  it('the page loads the script and stylesheet it is served with', () => {
    expect(html).toContain('demo.js');
    expect(html).toContain('demo.css');
    expect(js.length).toBeGreaterThan(0);
    // The demo is built on the browser SDK, served beside it.
    expect(js).toContain("from '/client.js'");
    expect(client).toMatch(/export\{[^}]*\bconnect\b/);
  });

  it('during a call, a legs panel dials into that call, lists the legs and toggles the bot; the outbound call stays apart', () => {
    for (const id of ['legs-panel', 'leg-dial', 'leg-phone', 'leg-add', 'legs', 'bot', 'bot-state', 'dial', 'phone', 'dial-button']) expect(html).toContain(`id="${id}"`);
    expect(html).toMatch(/<section id="legs-panel" hidden>/);
    // The panel is built on the SDK's legs API; the separate outbound call stays POST /v1/calls.
    for (const use of ['.addLeg(', '.removeLeg(', '.legs()', '.setBot(', "'leg.joined'", "'leg.left'", "'bot'", "'/v1/calls'"]) expect(js).toContain(use);
  });

  it('an unknown path is still a JSON 404, not a file', async () => {
    const res = await SELF.fetch('http://edge.test/demo.txt');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
  });
});
