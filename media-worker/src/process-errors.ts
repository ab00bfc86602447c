/**
 * The worker's last line against failures nobody caught: an `uncaughtException` or an
 * `unhandledRejection` is logged with its stack and counted (switchboard_errors_total{kind="uncaught"}),
 * so no failure goes unseen.
 *
 * - uncaughtException: the process state is unknown (a half-run callback may have left any
 *   object inconsistent), so the worker stops claiming, drains its sessions and exits non-zero;
 *   the orchestrator restarts it. A second exception during the drain is logged and counted; the
 *   drain already under way decides the exit.
 * - unhandledRejection: a promise nobody awaited failed; the code that made it has already moved
 *   on, so the worker logs, counts and carries on.
 */
import type { Metrics } from './http/metrics.ts';

/** The exit code after an uncaught exception (EX_SOFTWARE: an internal software error). */
export const UNCAUGHT_EXIT_CODE = 70;

export interface ProcessErrorHooks {
  metrics: Pick<Metrics, 'errors'>;
  log?: (line: string) => void;
  /** Drains and exits with the code; called once. */
  fatal: (code: number) => void;
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return `non-Error value: ${String(err)}`;
}

export function installProcessErrorHandlers(hooks: ProcessErrorHooks): () => void {
  const log = hooks.log ?? ((line: string) => console.error(line));
  let fatalCalled = false;
  const onException = (err: unknown, origin: string): void => {
    hooks.metrics.errors.inc({ kind: 'uncaught' });
    log(`media worker: uncaught exception (${origin}); draining, then exiting ${UNCAUGHT_EXIT_CODE}: ${describeError(err)}`);
    if (fatalCalled) return;
    fatalCalled = true;
    hooks.fatal(UNCAUGHT_EXIT_CODE);
  };
  const onRejection = (reason: unknown): void => {
    hooks.metrics.errors.inc({ kind: 'uncaught' });
    log(`media worker: unhandled promise rejection (carrying on): ${describeError(reason)}`);
  };
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
