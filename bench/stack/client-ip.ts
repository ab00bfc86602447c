let n = 0;

/**
 * A distinct client address per request, from 198.18.0.0/15 (RFC 2544's benchmarking range), as
 * `CF-Connecting-IP`. The edge limits session creation per client address; a benchmark's hundreds
 * of sessions a minute stand for many callers, not one. Locally wrangler dev passes the header
 * through; in production Cloudflare sets it and a client cannot.
 */
export function benchClientIp(): Record<string, string> {
  const i = n++ % 131072;
  return { 'CF-Connecting-IP': `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}` };
}
