import type { LocalWorker } from '../../scripts/stack/media-worker.ts';

/** One step of a test's teardown: a name for the report, and what to do. */
export type TeardownStep = [name: string, step: () => Promise<unknown>];

/**
 * Runs every step in order, each even when an earlier one failed (so nothing is left running),
 * and returns the failures as `name: message` lines for the test to assert empty.
 */
export async function tearDown(steps: TeardownStep[]): Promise<string[]> {
  const failures: string[] = [];
  for (const [name, step] of steps) {
    try {
      await step();
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message}`);
    }
  }
  return failures;
}

/** A teardown step that stops a worker and fails, with its output's tail, unless it exits 0. */
export function stopWorkerStep(worker: LocalWorker | undefined): TeardownStep {
  return [
    'worker',
    async () => {
      const code = await worker?.stop();
      if (worker && code !== 0) throw new Error(`exited with ${code}\n${worker.output().slice(-2000)}`);
    },
  ];
}
