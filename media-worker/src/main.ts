import { loadWorkerConfig } from './config.ts';
import { UtilizationPublisher } from './ecs/emf-utilization.ts';
import { resolvePublicIp } from './ecs/task-metadata.ts';
import { TaskProtection } from './ecs/task-protection.ts';
import { loadHandler } from './handlers/load.ts';
import { createMetrics } from './http/metrics.ts';
import { startHttp } from './http/server.ts';
import { installProcessErrorHandlers } from './process-errors.ts';
import { createVadFactory } from './vad/factory.ts';
import { MediaWorker } from './worker.ts';
import { installWeriftPatches } from './werift-patches/index.ts';
import { UdpMux } from './werift-patches/udp-mux.ts';
import { FrameClock } from './audio/frame-clock.ts';
import { startTracing, tracingConfigFromEnv, type Tracing } from './telemetry/tracing.ts';

/**
 * `node <WORKER_NODE_FLAGS> media-worker/src/main.ts` (node-flags.ts): loads config,
 * the handler (HANDLER) and the VAD model once, serves /healthz /readyz /metrics, claims jobs;
 * SIGTERM drains (DRAIN_TIMEOUT_MS) and exits 0; an uncaught exception drains and exits non-zero.
 * On ECS: PUBLIC_IP is looked up when unset (ecs/task-metadata.ts), and the task is protected
 * from scale-in while it has sessions (ecs/task-protection.ts). With METRICS_NAMESPACE set, the
 * utilisation metric for autoscaling is written to stdout as CloudWatch EMF (ecs/emf-utilization.ts).
 */
async function main(): Promise<void> {
  // Made first, so a failure nobody caught is counted from the start (process-errors.ts): an
  // uncaught exception drains and exits non-zero, an unhandled rejection is logged and counted.
  const metrics = createMetrics();
  let shutdown: ((why: string, code: number) => Promise<void>) | undefined;
  installProcessErrorHandlers({
    metrics,
    fatal: (code) => {
      if (shutdown) void shutdown('uncaught exception', code);
      else process.exit(code); // still starting: nothing to drain
    },
  });
  installWeriftPatches();
  const loaded = loadWorkerConfig(process.env);
  const config = { ...loaded, PUBLIC_IP: (await resolvePublicIp(loaded)) ?? '' };
  if (config.FRAME_CLOCK_OFFSET_MS !== null) FrameClock.setSharedOffset(config.FRAME_CLOCK_OFFSET_MS);
  if (config.RTC_UDP_PORT !== null) {
    // Bound before claiming anything: a port in use stops the worker here, with its reason.
    const mux = await UdpMux.shared(config.RTC_UDP_PORT, config.RTC_INTERFACE || undefined);
    console.log(`WebRTC: every call on UDP port ${mux.port}${config.RTC_INTERFACE ? ` of ${config.RTC_INTERFACE}` : ''}`);
  }
  const handler = await loadHandler(config.HANDLER);
  const vad = await createVadFactory();
  const protection = new TaskProtection({
    agentUri: config.ECS_AGENT_URI,
    expiresInMinutes: config.TASK_PROTECTION_MINUTES,
    idleDisableMs: config.TASK_PROTECTION_IDLE_MS,
  });
  const worker = new MediaWorker(config, handler, vad, metrics, undefined, protection);
  // Optional OTel traces (telemetry/tracing.ts): on with OTEL_EXPORTER_OTLP_ENDPOINT; a bad
  // OTEL_* setting is reported and the worker runs without traces rather than not at all.
  let tracing: Tracing | undefined;
  try {
    tracing = startTracing(tracingConfigFromEnv(process.env), { instanceId: worker.id });
    if (tracing) console.log(`tracing: exporting spans to ${tracing.config.url} as ${tracing.config.serviceName}`);
  } catch (err) {
    console.error(`tracing disabled: ${err instanceof Error ? err.message : String(err)}`);
  }
  const http = await startHttp({ host: config.WORKER_HTTP_HOST, port: config.WORKER_HTTP_PORT, metrics, ready: () => worker.ready });
  worker.start();
  // The same busy count as scale-in protection (sessions + claims in flight), over MAX_SESSIONS.
  const utilization = new UtilizationPublisher({
    namespace: config.METRICS_NAMESPACE,
    service: config.METRICS_SERVICE,
    publishEveryMs: config.METRICS_PUBLISH_MS,
    capacity: config.MAX_SESSIONS,
    busy: () => worker.busy,
  });
  utilization.start();
  const addr = http.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.WORKER_HTTP_PORT;
  console.log(`media worker ${worker.id} up: handler ${config.HANDLER}, ${config.MAX_SESSIONS} slots, http://${config.WORKER_HTTP_HOST}:${port}/healthz`);

  let stopping = false;
  let exitCode = 0;
  shutdown = async (why: string, code: number) => {
    // A failure during a drain already under way makes its exit non-zero.
    exitCode = Math.max(exitCode, code);
    if (stopping) return;
    stopping = true;
    console.log(`${why}: draining ${worker.activeSessions} session(s), up to ${config.DRAIN_TIMEOUT_MS} ms`);
    // After an uncaught exception the drain itself may hang on broken state: bounded all the same.
    if (code !== 0) setTimeout(() => process.exit(exitCode), config.DRAIN_TIMEOUT_MS + 5000).unref();
    await worker.drain(config.DRAIN_TIMEOUT_MS);
    // Sampled through the drain; the last partial window is written before exit.
    utilization.stop();
    http.close();
    // The last spans: at most ~2 s (SHUTDOWN_TIMEOUT_MS), however dead the collector.
    await tracing?.shutdown();
    process.exit(exitCode);
  };
  process.on('SIGTERM', () => void shutdown?.('SIGTERM', 0));
  process.on('SIGINT', () => void shutdown?.('SIGINT', 0));
}

main().catch((err: unknown) => {
  console.error(`media worker failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
