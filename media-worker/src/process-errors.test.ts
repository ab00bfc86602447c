import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startMediaWorker } from '../../scripts/stack/media-worker.ts';
import { UNCAUGHT_EXIT_CODE } from './process-errors.ts';

const HANDLER = resolve(import.meta.dirname, 'process-errors.fixture-handler.ts');

async function poll(cond: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function uncaughtCount(metricsText: string): number {
  const m = /^switchboard_errors_total\{kind="uncaught"\} (\d+)/m.exec(metricsText);
  return m ? Number(m[1]) : 0;
}

describe('a worker process and failures nobody caught (real worker process)', () => {
  it('logs and counts an unhandled rejection and carries on; an uncaught exception drains and exits non-zero', async () => {
    const worker = await startMediaWorker({
      quiet: true,
      env: {
        HANDLER,
        // No queue answers here: the worker polls in vain, which is not what this is about.
        SQS_QUEUE_URL: 'http://127.0.0.1:9/000000000000/nowhere',
        SQS_ENDPOINT: 'http://127.0.0.1:9',
        SQS_WAIT_S: '1',
        DRAIN_TIMEOUT_MS: '2000',
      },
    });
    let exitCode: number | null | undefined;
    try {
      // The rejection left at load: logged with its stack, counted, and the worker still serves.
      await poll(async () => uncaughtCount(await (await fetch(`${worker.url}/metrics`)).text()) === 1, 10_000);
      expect(worker.output()).toMatch(/unhandled promise rejection \(carrying on\): Error: fixture: a rejection nobody awaited\n\s+at /);
      expect((await fetch(`${worker.url}/healthz`)).status).toBe(200);

      // The throw from a timer: logged with its stack, then the worker drains and exits non-zero.
      process.kill(worker.pid, 'SIGUSR2');
      // SIGCONT changes nothing for a running process: stop() here only waits for the worker's own exit.
      exitCode = await Promise.race([worker.stop('SIGCONT'), new Promise<null>((r) => setTimeout(() => r(null), 15_000))]);
      expect(worker.output()).toMatch(/uncaught exception \(uncaughtException\); draining, then exiting 70: Error: fixture: thrown from a timer\n\s+at /);
      expect(exitCode).toBe(UNCAUGHT_EXIT_CODE);
    } finally {
      if (exitCode === undefined) await worker.stop('SIGKILL');
    }
  });
});
