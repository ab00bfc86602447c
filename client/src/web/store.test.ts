import { describe, expect, it } from 'vitest';
import type { Call, CallListeners, ConnectOptions } from './call.ts';
import { SwitchboardError } from './errors.ts';
import { CallStore } from './store.ts';

/** A stand-in for Call (which needs a browser): it keeps the listeners the store attaches. */
function fakeCall(o: ConnectOptions, start: () => Promise<void>) {
  const on = o.on as Partial<CallListeners>;
  const fake = {
    state: 'connecting',
    error: null as SwitchboardError | null,
    sessionId: 's_1',
    muted: false,
    start,
    mute(m = true) {
      fake.muted = m;
    },
    async hangup() {
      fake.state = 'ended';
      on.state?.('ended');
    },
    emit: (e: Parameters<CallListeners['event']>[0]) => on.event?.(e),
  };
  return fake;
}

describe('CallStore', () => {
  it('tracks state, events, final transcripts and metrics as immutable snapshots, keeping the last N', async () => {
    let call!: ReturnType<typeof fakeCall>;
    const store = new CallStore((o) => (call = fakeCall(o, async () => o.on?.state?.('connected'))) as unknown as Call, 3);
    const seen: string[] = [];
    store.subscribe(() => seen.push(store.getSnapshot().state));
    const before = store.getSnapshot();
    await store.connect();
    expect(before.state).toBe('idle');
    expect(store.getSnapshot()).toMatchObject({ state: 'connected', sessionId: 's_1' });
    expect(seen).toContain('connecting');

    call.emit({ type: 'transcript', role: 'user', text: 'hel', final: false });
    call.emit({ type: 'transcript', role: 'user', text: 'hello' });
    call.emit({ type: 'metrics', turn: 1, endOfSpeechToFirstFrameMs: 120, handlerFirstFrameMs: 3, silenceMs: 600 });
    call.emit({ type: 'reply.end', at: 1, turn: 1 });
    const snap = store.getSnapshot();
    expect(snap.transcript.map((t) => t.text)).toEqual(['hello']);
    expect(snap.metrics.map((m) => m.endOfSpeechToFirstFrameMs)).toEqual([120]);
    expect(snap.events.map((e) => e.type)).toEqual(['transcript', 'metrics', 'reply.end']);

    store.mute();
    expect(store.getSnapshot().muted).toBe(true);
    await store.hangup();
    expect(store.getSnapshot().state).toBe('ended');
  });

  it('a failed connect leaves the error in the snapshot and rejects', async () => {
    const refused = new SwitchboardError('no_worker', 'offer: 503 no media worker', { status: 503 });
    const store = new CallStore((o) => fakeCall(o, () => Promise.reject(refused)) as unknown as Call);
    await expect(store.connect()).rejects.toBe(refused);
    expect(store.getSnapshot()).toMatchObject({ state: 'failed', error: refused });
  });

  it("passes the caller's own listeners the events too", async () => {
    const got: string[] = [];
    let call!: ReturnType<typeof fakeCall>;
    const store = new CallStore((o) => (call = fakeCall(o, async () => {})) as unknown as Call);
    await store.connect({ on: { event: (e) => got.push(e.type) } });
    call.emit({ type: 'vad.start', at: 1 });
    expect(got).toEqual(['vad.start']);
  });
});
