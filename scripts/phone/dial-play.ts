import type { CallResult } from './call-types.ts';
import { sleep, type Dialer } from './markup-loop.ts';
import type { DialOutcome, ProviderAdapter } from './providers/types.ts';

export const DEFAULT_DIAL_TALK_MS = 500;

/**
 * Plays the provider's side of a `<Dial>`: records it, and ends the dialed leg with `outcome`
 * (completed: the human talks `talkMs`, then hangs up; busy / no-answer / failed: at once, the
 * ringing time is not waited). Returns the fields the `<Dial action>` request carries.
 */
export function dialPlayer(o: { adapter: ProviderAdapter; outcome: DialOutcome; talkMs: number; dials: CallResult['dials']; callStartedAt: number; log: (l: string) => void }): Dialer {
  return async (dial, signal) => {
    const to = dial.numbers.join(',');
    o.dials.push({ to, ...(dial.callerId !== undefined ? { callerId: dial.callerId } : {}), atMs: performance.now() - o.callStartedAt, outcome: o.outcome });
    o.log(`dial ${to}${dial.callerId ? ` from ${dial.callerId}` : ''}${dial.say ? ` after "${dial.say}"` : ''}: ${o.outcome}${o.outcome === 'completed' ? ` after ${o.talkMs} ms of talk` : ''}`);
    if (o.outcome === 'completed') await sleep(o.talkMs, signal);
    return o.adapter.dialParams(o.outcome, Math.round(o.talkMs / 1000));
  };
}
