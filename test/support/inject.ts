import { inject as provided } from 'vitest';
import type { StackContext } from './stack.ts';

/**
 * A setting of this test file's stack: e2e files that run side by side each have their own
 * (support/stack.ts starts one per worker slot; VITEST_POOL_ID numbers the slots from 1).
 */
export function inject<K extends keyof StackContext>(key: K): StackContext[K] {
  const stacks = provided('stacks');
  const slot = Number(process.env.VITEST_POOL_ID ?? '1');
  const stack = stacks[(slot - 1) % stacks.length];
  if (!stack) throw new Error(`no e2e stack for worker slot ${slot} (${stacks.length} started)`);
  return stack[key];
}
