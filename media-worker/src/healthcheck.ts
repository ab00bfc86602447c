/**
 * `node media-worker/src/healthcheck.ts`: the container health check (Dockerfile HEALTHCHECK and
 * the ECS task definition run the same command). Exits 0 when the worker's /healthz answers 200
 * within 3 s, 1 otherwise. Reads the address the worker listens on from the same variables.
 */
export {};

const host = process.env.WORKER_HTTP_HOST || '127.0.0.1';
const port = process.env.WORKER_HTTP_PORT || '9090';
const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/healthz`;

try {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  if (!res.ok) {
    console.error(`healthcheck: ${url} answered ${res.status}`);
    process.exit(1);
  }
  process.exit(0);
} catch (err) {
  console.error(`healthcheck: ${url} unreachable: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
