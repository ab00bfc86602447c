import { describe, expect, it } from 'vitest';
import { SessionSlots } from './session-slots.ts';

function run(id: string) {
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  return { id, done, finish };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('SessionSlots', () => {
  it('a session taken over by the worker that still finishes its old run holds one slot, freed once, when the new run ends', async () => {
    const slots = new SessionSlots<ReturnType<typeof run>>();
    let freed = 0;
    const old = run('s1');
    slots.add(old, () => freed++);
    const other = run('s2');
    slots.add(other, () => freed++);
    const taken = run('s1');
    slots.add(taken, () => freed++);
    expect(slots.size).toBe(2);
    expect(slots.runs()).toHaveLength(3);

    old.finish();
    await tick();
    expect(slots.size).toBe(2); // the call goes on in `taken`: its slot is not lost
    expect(freed).toBe(0);
    expect(new Set(slots.runs())).toEqual(new Set([other, taken]));

    taken.finish();
    await tick();
    expect(slots.size).toBe(1);
    expect(freed).toBe(1);

    other.finish();
    await tick();
    expect(slots.size).toBe(0);
    expect(freed).toBe(2);
  });

  it('a run whose done rejects still frees its slot', async () => {
    const slots = new SessionSlots<{ id: string; done: Promise<void> }>();
    let freed = 0;
    slots.add({ id: 'x', done: Promise.reject(new Error('boom')) }, () => freed++);
    await tick();
    expect(slots.size).toBe(0);
    expect(freed).toBe(1);
  });
});
