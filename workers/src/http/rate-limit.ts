import type { Context } from 'hono';
import type { Env } from '../env.ts';
import { rateLimited } from '../errors.ts';

/** Creation routes are limited per client IP by the `CREATE_LIMITER` binding (wrangler.jsonc). */
export async function limitCreation(c: Context<{ Bindings: Env }>, route: string): Promise<void> {
  const limiter = c.env.CREATE_LIMITER;
  if (!limiter) return;
  const ip = c.req.header('CF-Connecting-IP') ?? c.req.header('X-Forwarded-For')?.split(',')[0]?.trim() ?? 'local';
  const { success } = await limiter.limit({ key: `${route}:${ip}` });
  if (!success) throw rateLimited(60);
}
