import { describe, expect, it } from 'vitest';
import { codecFloorPctPerSession, stageSplit } from '../bench/media/stage-split.ts';

const metrics = (s: Record<string, number>) =>
  Object.entries(s)
    .map(([stage, seconds]) => `switchboard_stage_seconds_total{stage="${stage}"} ${seconds}`)
    .join('\n');

describe('bench stage split', () => {
  it('turns the stage counters over a window into % of a core, per session and as shares; transport is the rest', () => {
    // 10 s window, the worker at 20 % of a core: decode 0.4 s and encode 0.6 s of it (4 % and 6 % of a core).
    const before = metrics({ decode: 1, resample: 0, vad: 0, turns: 0, encode: 2, playout: 0.5 });
    const after = metrics({ decode: 1.4, resample: 0, vad: 0, turns: 0, encode: 2.6, playout: 0.6 });
    const s = stageSplit(20, 10, { before, after }, 10_000);
    expect(s.sharePct).toEqual({ transport: 45, decode: 20, resample: 0, vad: 0, turns: 0, encode: 30, playout: 5 });
    expect(s.pctPerSession.decode).toBe(0.4);
    expect(s.pctPerSession.transport).toBe(0.9);
  });

  it('refuses a worker that exports no stage counters (STAGE_TIMING off)', () => {
    expect(() => stageSplit(20, 10, { before: '', after: 'switchboard_turns_total 3' }, 10_000)).toThrow(/STAGE_TIMING=on/);
  });

  it('prices the codec floor: Opus decode and encode of the row plus the kernel, nothing else', () => {
    // 1.2 % a session, Opus 20 % + 25 % of it (0.54), kernel 0.1 % a session; playout and transport count nothing.
    const share = { transport: 52, decode: 20, resample: 0, vad: 0, turns: 0, encode: 25, playout: 3 };
    expect(codecFloorPctPerSession(1.2, share, 0.1)).toBeCloseTo(0.64, 10);
    expect(codecFloorPctPerSession(1.2, { ...share, transport: 97, decode: 0, encode: 0 }, 0)).toBe(0);
  });
});
