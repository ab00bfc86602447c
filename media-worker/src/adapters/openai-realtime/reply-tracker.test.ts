import { describe, expect, it } from 'vitest';
import { ReplyTracker, cutText } from './reply-tracker.ts';

describe('cutText', () => {
  it('keeps the heard fraction without a partial word', () => {
    expect(cutText('one two three four', 0.5)).toBe('one two');
    expect(cutText('one two three four', 0.3)).toBe('one'); // 'one t': the partial word goes
    expect(cutText('one two three four', 1)).toBe('one two three four');
    expect(cutText('one two', 0)).toBe('');
    expect(cutText('', 0.5)).toBe('');
  });
});

describe('ReplyTracker.interrupt', () => {
  it('truncates the item the cut falls in, at its own offset, and later items at 0', () => {
    const tr = new ReplyTracker();
    const r = tr.current();
    tr.received(r, 'a', 1000);
    tr.text(r, 'a', 'first item words', true);
    tr.item(r, 'a')!.audioDone = true;
    tr.received(r, 'b', 2000);
    tr.text(r, 'b', 'second item has more words here', true);
    tr.received(r, 'c', 500);
    tr.yielded(r, 'a', 1000);
    tr.yielded(r, 'b', 1200);
    const [cut, ...rest] = tr.interrupt(1500);
    expect(rest).toEqual([]);
    expect(cut!.heardMs).toBe(1500);
    // a was heard whole; b from 1000 ms: 500 of its 2000 ms; c never played.
    expect(cut!.truncations).toEqual([
      { itemId: 'b', audioEndMs: 500 },
      { itemId: 'c', audioEndMs: 0 },
    ]);
    expect(cut!.heardText).toBe('first item words second'); // 8 of 31 characters of b: 'second i'
    expect(tr.hasAudio).toBe(false);
  });

  it('a closed reply heard whole (the last frame padded) is not cut', () => {
    const tr = new ReplyTracker();
    const r = tr.current();
    tr.received(r, 'a', 990);
    tr.item(r, 'a')!.audioDone = true;
    tr.yielded(r, 'a', 990);
    r.closed = true;
    expect(tr.interrupt(1000)).toEqual([]);
  });

  it('played ms beyond what was yielded is clamped; audio_end_ms is whole ms', () => {
    const tr = new ReplyTracker();
    const r = tr.current();
    tr.received(r, 'a', 800.5);
    tr.yielded(r, 'a', 600.5);
    expect(tr.interrupt(9999)[0]!.truncations).toEqual([{ itemId: 'a', audioEndMs: 600 }]);
  });

  it('a reply still being received joins no closed one, and older replies leave when a newer one plays', () => {
    const tr = new ReplyTracker();
    const r1 = tr.current();
    tr.received(r1, 'a', 100);
    tr.yielded(r1, 'a', 100);
    r1.closed = true;
    const r2 = tr.current();
    expect(r2).not.toBe(r1);
    tr.received(r2, 'b', 300);
    tr.yielded(r2, 'b', 100);
    const cuts = tr.interrupt(50);
    expect(cuts.map((c) => c.reply)).toEqual([r2]);
    expect(cuts[0]!.truncations).toEqual([{ itemId: 'b', audioEndMs: 50 }]);
  });
});

describe('ReplyTracker.detach', () => {
  it('closes the reply being received with its unfinished items\' text, and asks no truncation of lost items', () => {
    const tr = new ReplyTracker();
    const r = tr.current();
    tr.received(r, 'a', 1000);
    tr.text(r, 'a', 'first item', true);
    tr.received(r, 'b', 1000);
    tr.text(r, 'b', 'second ', false);
    tr.text(r, 'b', 'item so ', false);
    tr.yielded(r, 'a', 1000);
    tr.yielded(r, 'b', 1000);
    expect(tr.detach()).toEqual({ reply: r, text: 'second item so' });
    expect(r.closed).toBe(true);
    expect(tr.detach()).toBeUndefined();
    const [cut] = tr.interrupt(1500);
    expect(cut!.truncations).toEqual([]);
    expect(cut!.heardText).toBe('first item second');
  });
});
