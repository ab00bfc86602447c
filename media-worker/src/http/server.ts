import { createServer, type Server } from 'node:http';
import type { Metrics } from './metrics.ts';

/** GET /healthz (process up), /readyz (claiming: not draining), /metrics (Prometheus text). */
export function startHttp(opts: { host: string; port: number; metrics: Metrics; ready: () => boolean }): Promise<Server> {
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405, { 'Content-Type': 'application/json', Allow: 'GET' }).end('{"error":{"code":"method_not_allowed","message":"GET only"}}');
    } else if (path === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
    } else if (path === '/readyz') {
      const ready = opts.ready();
      res.writeHead(ready ? 200 : 503, { 'Content-Type': 'application/json' }).end(JSON.stringify({ ready }));
    } else if (path === '/metrics') {
      try {
        const text = await opts.metrics.registry.metrics();
        res.writeHead(200, { 'Content-Type': opts.metrics.registry.contentType }).end(text);
      } catch (err) {
        res.writeHead(500, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: { code: 'metrics_failed', message: (err as Error).message } }));
      }
    } else {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":{"code":"not_found","message":"no such route"}}');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve(server));
  });
}
