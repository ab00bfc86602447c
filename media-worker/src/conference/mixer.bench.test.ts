/**
 * Microbenchmark: the cost of one tick for 2, 3 and 5 legs, printed (no timing assertion: the
 * machine decides the numbers). Per tick: every leg pushes 20 ms and mix() runs once.
 * - mix: mix() alone (every leg live, handler audio to everyone);
 * - tick, same rate: pushes at the session rate (no resampling) plus mix();
 * - tick, resampled: legs as they come (one 48 kHz browser, the rest 8 kHz phones) into the session.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { AudioFrame } from '../audio/frame.ts';
import { initResampler } from '../audio/resampler.ts';
import { ConferenceMixer } from './mixer.ts';
import { toneFrame } from './tone.test-helper.ts';

const WARMUP = 500;
const TICKS = 2000;

function run(sessionRate: number, legs: number, inRate: (leg: number) => number): { mixUs: number; tickUs: number } {
  const m = new ConferenceMixer({ sampleRate: sessionRate });
  const frames: AudioFrame[][] = [];
  for (let l = 0; l < legs; l++) {
    m.addLeg(`leg${l}`);
    // 50 distinct frames per leg, cycled, so the pushes are not one buffer over and over.
    frames.push(Array.from({ length: 50 }, (_, k) => toneFrame(300 + 200 * l, inRate(l), 20, k, 6000)));
  }
  const handler = Array.from({ length: 50 }, (_, k) => toneFrame(220, sessionRate, 20, k, 3000));
  let mixMs = 0;
  let tickMs = 0;
  let live = 0;
  for (let t = 0; t < WARMUP + TICKS; t++) {
    const t0 = performance.now();
    for (let l = 0; l < legs; l++) m.push(`leg${l}`, frames[l]![t % 50]!);
    m.pushHandler(handler[t % 50]!);
    const t1 = performance.now();
    const r = m.mix();
    const t2 = performance.now();
    if (t >= WARMUP) {
      mixMs += t2 - t1;
      tickMs += t2 - t0;
      if (r.everyoneActive) live++;
    }
  }
  // Honest check that the measured ticks did the work: every leg was live in (nearly) all of them.
  expect(live).toBeGreaterThan(TICKS * 0.99);
  m.close();
  return { mixUs: (mixMs * 1000) / TICKS, tickUs: (tickMs * 1000) / TICKS };
}

describe('ConferenceMixer cost per tick', () => {
  beforeAll(async () => {
    await initResampler();
  });

  // A measurement, not a race: its own generous timeout (a loaded CI machine took 5.2 s at 5000 ticks).
  it('prints µs per tick for 2, 3 and 5 legs', { timeout: 60_000 }, () => {
    const rows: string[] = [];
    for (const rate of [16000, 48000]) {
      for (const legs of [2, 3, 5]) {
        const same = run(rate, legs, () => rate);
        const mixed = run(rate, legs, (l) => (l === 0 ? 48000 : 8000));
        rows.push(
          `${rate / 1000} kHz session, ${legs} legs: mix ${same.mixUs.toFixed(1)} µs, tick same-rate ${same.tickUs.toFixed(1)} µs, tick resampled (1x48k + ${legs - 1}x8k in) ${mixed.tickUs.toFixed(1)} µs`,
        );
      }
    }
    console.log(`conference mixer, per 20 ms tick (${TICKS} ticks after ${WARMUP} warm-up):\n  ${rows.join('\n  ')}`);
  });
});
