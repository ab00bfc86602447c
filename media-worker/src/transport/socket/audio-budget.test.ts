import { describe, expect, it } from 'vitest';
import { AudioBudget } from './audio-budget.ts';

describe('AudioBudget', () => {
  it('lets audio through at twice real time for as long as it lasts', () => {
    const b = new AudioBudget();
    // 16 kHz PCM16: 32,000 bytes/s; 20 ms frames (640 bytes) every 10 ms is twice real time.
    for (let t = 0; t < 60_000; t += 10) expect(b.admit(640, 32_000, t)).toBe(true);
  });

  it('refuses audio faster than twice real time once a second of burst and a second of debt are used', () => {
    const b = new AudioBudget();
    let refusedAt = -1;
    // Four times real time: 640 bytes every 5 ms.
    for (let t = 0; t < 5000 && refusedAt < 0; t += 5) if (!b.admit(640, 32_000, t)) refusedAt = t;
    // Net drain 64,000 bytes/s against 128,000 bytes of credit and debt: about 2 s.
    expect(refusedAt).toBeGreaterThan(1900);
    expect(refusedAt).toBeLessThan(2100);
  });

  it('allows a buffered burst of up to two seconds at the start', () => {
    const b = new AudioBudget();
    expect(b.admit(128_000, 32_000, 0)).toBe(true);
    expect(b.admit(640, 32_000, 0)).toBe(false);
  });
});
