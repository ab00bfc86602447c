import { describe, expect, it } from 'vitest';
import { withDeadline } from '../src/http/deadline.ts';

describe('withDeadline', () => {
  it('returns what the work returns and leaves its signal unaborted', async () => {
    let seen: AbortSignal | undefined;
    expect(await withDeadline(1000, async (signal) => ((seen = signal), 42))).toBe(42);
    await new Promise((r) => setTimeout(r, 20));
    expect(seen?.aborted).toBe(false);
  });

  it('aborts the work with a TimeoutError once the time is up', async () => {
    const err = await withDeadline(20, (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)))).catch((e: unknown) => e);
    expect((err as DOMException).name).toBe('TimeoutError');
  });
});
