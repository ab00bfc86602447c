/**
 * Media cost of our worker: `node bench/media/worker-echo.ts [runs] [windowMs] [warmupMs]`, runs
 * like `10x1,40x2` (sessions x load processes). Starts fauxqs + the edge (wrangler dev) and, per
 * run, a fresh media worker with the stream-echo test handler (decode + encode of every frame, no
 * VAD), drives it with runLoad over WHIP and reads the worker's CPU from /proc exactly over the
 * window. Prints one JSON line per run.
 */
import { fileURLToPath } from 'node:url';
import { edgeVarsFromEnv } from '../../scripts/stack/config.ts';
import { startEdge, type LocalEdge } from '../../scripts/stack/edge.ts';
import { startLocalSqs, type LocalSqs } from '../../scripts/stack/local-sqs.ts';
import { startMediaWorker, type LocalWorker } from '../../scripts/stack/media-worker.ts';
import { cpuWindow, machineBusyPct } from './proc-cpu.ts';
import { runLoad, type LoadResult } from './run-load.ts';

const STREAM_ECHO = fileURLToPath(new URL('../../test/fixtures/handlers/stream-echo.ts', import.meta.url));
const runs = (process.argv[2] ?? '10x1,40x2').split(',').map((r) => {
  const [s, p] = r.split('x').map(Number);
  return { sessions: s!, processes: p ?? 1 };
});
const windowMs = Number(process.argv[3] ?? 10_000);
const warmupMs = Number(process.argv[4] ?? 3000);

let sqs: LocalSqs | undefined;
let edge: LocalEdge | undefined;
let worker: LocalWorker | undefined;
const cleanup = async () => {
  await worker?.stop().catch(() => {});
  await edge?.stop().catch(() => {});
  await sqs?.stop().catch(() => {});
};
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

async function activeSessions(w: LocalWorker): Promise<number> {
  const text = await (await fetch(`${w.url}/metrics`)).text();
  return Number(/^switchboard_active_sessions(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1] ?? NaN);
}

try {
  sqs = await startLocalSqs({});
  edge = await startEdge({ vars: edgeVarsFromEnv({}, { SQS_QUEUE_URL: sqs.queueUrl, SQS_ENDPOINT: sqs.endpoint, CLAIM_TIMEOUT_MS: '20000' }), quiet: true });
  for (const run of runs) {
    worker = await startMediaWorker({
      quiet: true,
      env: { PUBLIC_BASE_URL: edge.url, SQS_QUEUE_URL: sqs.queueUrl, SQS_ENDPOINT: sqs.endpoint, SQS_WAIT_S: '1', MAX_SESSIONS: '100', HANDLER: STREAM_ECHO },
    });
    const w = worker;
    // Other load on the box (another benchmark, a CI run) makes every figure noisy: note it.
    const busyBeforePct = await machineBusyPct(2000);
    let window: ReturnType<typeof cpuWindow> | undefined;
    let cpu: ReturnType<ReturnType<typeof cpuWindow>['stop']> | undefined;
    const load: LoadResult = await runLoad({
      signaling: { kind: 'whip', url: edge.url },
      sessions: run.sessions,
      processes: run.processes,
      warmupMs,
      windowMs,
      onWindowStart: () => (window = cpuWindow({ worker: w.pid })),
      onWindowEnd: () => (cpu = window?.stop()),
      log: (l) => process.stderr.write(`${l}\n`),
    });
    // Sessions end asynchronously after DELETE; wait so the next run starts from an idle worker.
    const deadline = Date.now() + 15_000;
    let left = await activeSessions(w);
    while (left > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      left = await activeSessions(w);
    }
    const workerPct = cpu?.pct['worker'] ?? NaN;
    console.log(
      JSON.stringify({
        sessions: run.sessions,
        processes: run.processes,
        worker: {
          cpuPct: workerPct,
          cpuPctPerSession: Math.round((workerPct / Math.max(1, load.connected)) * 100) / 100,
          rssMiB: cpu?.rssMiB['worker'],
          sessionsLeftAfterHangup: left,
        },
        machine: cpu && {
          /** Busy CPU of the whole box (tick-sampled, approximate) with the idle worker up, just before the run. */
          busyBeforeRunPct: busyBeforePct,
          busyPctOfOneCore: cpu.machineBusyPct,
          /** Machine busy minus the worker and the load processes: the edge, the CI run, anything else. */
          otherPct: Math.round((cpu.machineBusyPct - workerPct - load.loadGen.cpuPct) * 10) / 10,
        },
        load,
      }),
    );
    await w.stop();
    worker = undefined;
  }
} finally {
  await cleanup();
}
process.exit(0);
