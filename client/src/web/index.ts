/**
 * `@switchboard/client`: calls a Switchboard handler from the browser over WebRTC.
 *
 *   const call = await connect({ url: 'https://edge.example.com', token });
 *   call.on('transcript', (t) => show(t.role, t.text));
 *   call.on('metrics', (m) => chart(m.endOfSpeechToFirstFrameMs));
 *   call.mute();
 *   const { legId } = await call.addLeg('+15551234567'); // a phone joins the call
 *   call.on('leg.left', (e) => console.log(e.legId, e.reason));
 *   await call.hangup();
 */
import { Call, type ConnectOptions } from './call.ts';

export { Call, RESUME_WINDOW_MS, type BotEvent, type CallEvent, type CallListeners, type CallState, type ConnectOptions } from './call.ts';
export { SwitchboardError } from './errors.ts';
export type { TokenSource } from './edge.ts';
export type { PipelineEvent, TurnMetrics, StageMetrics, TranscriptEvent, Interrupted, LegJoinedEvent, LegLeftEvent, LegResponse, LegStatus, PhoneProvider } from '@switchboard/protocol';

/**
 * Starts a call: asks for the microphone, offers to the edge (WHIP, candidates trickled), and
 * resolves once media flows. Rejects with a SwitchboardError (`code` says why: the edge's error
 * code such as `too_many_sessions` or `no_worker`, or `media_denied`, `network`, `connect_failed`).
 */
export async function connect(options: ConnectOptions = {}): Promise<Call> {
  const call = new Call(options);
  await call.start();
  return call;
}

/** The microphones and speakers the page may use (labels appear once the microphone was allowed). */
export async function listDevices(): Promise<{ inputs: MediaDeviceInfo[]; outputs: MediaDeviceInfo[] }> {
  const all = await navigator.mediaDevices.enumerateDevices();
  return { inputs: all.filter((d) => d.kind === 'audioinput'), outputs: all.filter((d) => d.kind === 'audiooutput') };
}
