import { Hono } from 'hono';
import client from '../../generated/client.js?raw';
import css from '../../public/demo.css?raw';
import js from '../../public/demo.js?raw';
import html from '../../public/index.html?raw';

/**
 * The demo page, bundled into the Worker as text (wrangler.jsonc's `Text` rule for `?raw`
 * imports; Vite reads the same suffix in the tests). Served by the Worker rather than as static
 * assets: with an assets directory every request, API calls included, first passes the asset
 * router, an extra hop that was about a quarter of the local runtime's CPU per WebRTC session.
 */
const page = (body: string, type: string) => () =>
  new Response(body, { headers: { 'Content-Type': `${type}; charset=utf-8`, 'Cache-Control': 'no-cache' } });

export const demoPage = new Hono()
  .get('/', page(html, 'text/html'))
  .get('/index.html', page(html, 'text/html'))
  .get('/demo.js', page(js, 'text/javascript'))
  .get('/client.js', page(client, 'text/javascript'))
  .get('/demo.css', page(css, 'text/css'));
