import { expect, it } from 'vitest';
import { FrameClock } from './frame-clock.ts';

it('ticks on a fixed grid, catching up after a stall instead of drifting', async () => {
  const dues: number[] = [];
  const fired: number[] = [];
  const t0 = performance.now();
  const clock = new FrameClock(20, (due) => {
    dues.push(due - t0);
    fired.push(performance.now() - t0);
    if (dues.length === 3) {
      const until = performance.now() + 50; // block the event loop for 50 ms
      while (performance.now() < until);
    }
  });
  clock.start(t0);
  await new Promise((r) => setTimeout(r, 210));
  clock.stop();
  expect(dues.slice(0, 10).map((d) => Math.round(d * 1000) / 1000)).toEqual([0, 20, 40, 60, 80, 100, 120, 140, 160, 180]);
  for (let i = 0; i < fired.length; i++) expect(fired[i]!).toBeGreaterThanOrEqual(dues[i]!); // never early
  expect(dues.length).toBeGreaterThanOrEqual(10);
  expect(dues.length).toBeLessThanOrEqual(11);
  expect(clock.running).toBe(false);
});
