import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { loadConfig } from '../config.ts';
import type { Env } from '../env.ts';

/**
 * CORS for `/v1/`: the browser SDK calls the edge from the application's own origin. Preflights
 * are answered for the WHIP methods and headers; the responses expose what the SDK reads
 * (`Location` and `ETag` of a WHIP answer, `Retry-After` of a refusal). No credentials: the API
 * takes bearer tokens, never cookies.
 */
export const corsForApi: MiddlewareHandler<{ Bindings: Env }> = (c, next) => {
  // WebSocket upgrades (`/v1/stream`) are not subject to CORS, and their 101 must pass untouched.
  if (c.req.header('Upgrade')) return next();
  const origins = loadConfig(c.env).CORS_ORIGINS;
  return cors({
    origin: origins.includes('*') ? '*' : origins,
    allowMethods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
    allowHeaders: ['Authorization', 'Content-Type', 'If-Match'],
    exposeHeaders: ['Location', 'ETag', 'Retry-After', 'Link'],
    maxAge: 600,
  })(c, next);
};
