import { inject } from './inject.ts';
import { loadWorkerConfig, type WorkerConfig } from '../../media-worker/src/config.ts';
import { startMediaWorker, type LocalWorker } from '../../scripts/stack/media-worker.ts';

/**
 * The configuration of an in-process media worker on the e2e stack (edge and fauxqs from the
 * global setup), loopback-only WebRTC (loopback peers allowed) and a short long poll; `env`
 * overrides or adds settings (`RTC_UDP_PORT: ''`: a socket per call, the port-range mode's path).
 */
export function e2eWorkerConfig(env: Record<string, string> = {}): WorkerConfig {
  return loadWorkerConfig({
    PUBLIC_BASE_URL: inject('edgeUrl'),
    SQS_QUEUE_URL: inject('sqsQueueUrl'),
    SQS_ENDPOINT: inject('sqsEndpoint'),
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    SQS_WAIT_S: '1',
    RTC_INTERFACE: '127.0.0.1',
    // Every call of the process on one UDP socket, as deployed, on a port the OS picks.
    RTC_UDP_PORT: '0',
    // Every test peer is on loopback, which the worker's default (public peers only) refuses.
    RTC_ALLOW_PEER_ADDRESSES: 'loopback',
    ...env,
  });
}

/**
 * A media worker process (`node media-worker/src/main.ts`, killable for real) on the e2e stack:
 * the global setup's edge and fauxqs and a short long poll; `env` adds or overrides settings.
 */
export function startE2eWorker(env: Record<string, string>): Promise<LocalWorker> {
  return startMediaWorker({
    quiet: true,
    env: { PUBLIC_BASE_URL: inject('edgeUrl'), SQS_QUEUE_URL: inject('sqsQueueUrl'), SQS_ENDPOINT: inject('sqsEndpoint'), SQS_WAIT_S: '1', ...env },
  });
}

/**
 * SIGKILLs worker processes at the end of a test file, then waits out their last long poll
 * (SQS_WAIT_S=1 on the e2e stack): a receive left open by a killed worker would still take the
 * next file's first job and hide it for the visibility timeout, longer than the e2e claim timeout.
 */
export async function killE2eWorkers(workers: Iterable<LocalWorker>): Promise<void> {
  for (const w of workers) await w.stop('SIGKILL');
  await new Promise((r) => setTimeout(r, 1500));
}
