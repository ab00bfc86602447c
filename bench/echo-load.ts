import { readFileSync } from 'node:fs';
import { readWav } from '../media-worker/src/audio/pcm.ts';
import { startEdge } from '../scripts/stack/edge.ts';
import { edgeVarsFromEnv } from '../scripts/stack/config.ts';
import { startLocalSqs } from '../scripts/stack/local-sqs.ts';
import { startMediaWorker } from '../scripts/stack/media-worker.ts';
import { RtcTestClient } from '../test/support/rtc-client.ts';
import { procUsage } from './proc-stat.ts';

/**
 * Worker CPU per two-way echo session: N werift clients each talk (the speech fixture, then
 * silence) in a loop through the full local stack to one worker process running `echo`, and the
 * worker's CPU time over a steady window is read from /proc. The load generator runs on the same
 * machine, so this is an upper bound on the worker's share of a shared 2-core box.
 */
const speech = readWav(readFileSync(new URL('../test/fixtures/audio/hello-pause-question.wav', import.meta.url)));
const sizes = (process.argv[2] ?? '10,20').split(',').map(Number);
const windowMs = Number(process.argv[3] ?? 20_000);

const sqs = await startLocalSqs({});
const edge = await startEdge({ vars: edgeVarsFromEnv({}, { SQS_QUEUE_URL: sqs.queueUrl, SQS_ENDPOINT: sqs.endpoint, CLAIM_TIMEOUT_MS: '20000' }), quiet: true });
const results: Record<string, unknown>[] = [];
for (const n of sizes) {
  const worker = await startMediaWorker({ quiet: true, env: { PUBLIC_BASE_URL: edge.url, SQS_QUEUE_URL: sqs.queueUrl, SQS_ENDPOINT: sqs.endpoint, SQS_WAIT_S: '1', MAX_SESSIONS: String(n) } });
  const idle = procUsage(worker.pid);
  const clients: RtcTestClient[] = [];
  const answerMs: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = await RtcTestClient.connect(edge.url);
    answerMs.push(c.answerMs);
    clients.push(c);
  }
  const promText = await (await fetch(`${worker.url}/metrics`)).text();
  const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(promText)?.[1] ?? NaN);
  const workerAnswerMeanMs = (metric('switchboard_answer_latency_seconds_sum') / metric('switchboard_answer_latency_seconds_count')) * 1000;
  const stop = new AbortController();
  const loops = clients.map(async (c, i) => {
    await new Promise((r) => setTimeout(r, (i * 97) % 1000));
    while (!stop.signal.aborted) {
      await c.play(speech, stop.signal);
      await c.silence(1000);
    }
  });
  await new Promise((r) => setTimeout(r, 3000)); // warm-up
  const a = procUsage(worker.pid);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, windowMs));
  const b = procUsage(worker.pid);
  const wall = performance.now() - t0;
  stop.abort();
  await Promise.all(loops);
  const metrics = clients.flatMap((c) => c.events.filter((e) => e.type === 'metrics').map((e) => e['endOfSpeechToFirstFrameMs'] as number));
  const cpuPct = ((b.cpuMs - a.cpuMs) / wall) * 100;
  for (const c of clients) await c.hangup();
  await worker.stop();
  answerMs.sort((x, y) => x - y);
  metrics.sort((x, y) => x - y);
  results.push({
    sessions: n,
    workerCpuPct: +cpuPct.toFixed(1),
    cpuPctPerSession: +(cpuPct / n).toFixed(2),
    rssMiB: +b.rssMiB.toFixed(0),
    idleRssMiB: +idle.rssMiB.toFixed(0),
    workerAnswerMeanMs: +workerAnswerMeanMs.toFixed(1),
    whipPostP50Ms: +answerMs[Math.floor(answerMs.length / 2)]!.toFixed(1),
    turns: metrics.length,
    endOfSpeechToFirstFrameP50Ms: metrics.length ? +metrics[Math.floor(metrics.length / 2)]!.toFixed(1) : null,
  });
  console.log(JSON.stringify(results.at(-1)));
}
console.table(results);
await edge.stop();
await sqs.stop();
process.exit(0);
