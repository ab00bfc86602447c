/**
 * `@switchboard/client/react`: `useCall()` for React 18+ (an optional peer dependency).
 *
 *   const { state, transcript, connect, hangup, mute, muted } = useCall({ url, token });
 *   <button onClick={() => connect()}>Call</button>
 */
import { useEffect, useMemo, useSyncExternalStore } from 'react';
import { Call, type ConnectOptions } from '../web/call.ts';
import { CallStore, type CallSnapshot } from '../web/store.ts';

export interface UseCall extends CallSnapshot {
  /** The call in progress (levels, devices, send), or null. */
  call: Call | null;
  /** Starts a call with the hook's options merged with `overrides`; resolves once connected. */
  connect(overrides?: ConnectOptions): Promise<Call>;
  hangup(): Promise<void>;
  mute(muted?: boolean): void;
}

/** A call's state as React state; the call is hung up when the component unmounts. */
export function useCall(options: ConnectOptions = {}): UseCall {
  const store = useMemo(() => new CallStore((o) => new Call(o)), []);
  const snap = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
  useEffect(() => () => void store.hangup(), [store]);
  return {
    ...snap,
    call: store.call,
    connect: (overrides) => store.connect({ ...options, ...overrides }),
    hangup: () => store.hangup(),
    mute: (muted) => store.mute(muted),
  };
}
