/**
 * The WebRTC side of one session: the peer connection the call is on now, and moving the call
 * onto a new one when the client resumes (a fresh offer after its network changed, or after it
 * lost this worker's media). The handler's pipeline runs over the current transport; a resume
 * answers the new offer first, then stops the old pipeline (not the session), closes the old
 * peer connection and starts a pipeline on the new one, told it continues a conversation (no
 * greeting; the session's `ctx.state` lives on in the pipeline's owner).
 *
 * A transport that closes because the client's side went away (peer_closed, ice_failed: what a
 * network change looks like from here) does not end the session at once: it waits up to
 * RESUME_GRACE_MS for a resume, then ends with that reason. Any other close ends it at once.
 */
import type { WorkerEndReason } from '@switchboard/protocol';
import type { Pipeline } from '../pipeline/session-pipeline.ts';
import { WebRtcTransport, type WebRtcOptions } from '../transport/webrtc/webrtc-transport.ts';
import { transportEnd, type SessionEnd } from './end-reason.ts';

/** How long a session whose peer connection failed or closed waits for the client to resume. */
export const RESUME_GRACE_MS = 30_000;

/** Close reasons after which the client may come back with a new offer. */
const RESUMABLE: ReadonlySet<string> = new Set<WorkerEndReason>(['peer_closed', 'ice_failed']);

export interface WebRtcCallDeps {
  /** The answer's options (ICE servers as they are now). */
  options: () => WebRtcOptions;
  /** Runs the handler over a transport; `resumed`: the conversation started on an earlier one. */
  runPipeline: (t: WebRtcTransport, resumed: boolean) => Pipeline;
  sendAnswer: (sdp: string, answerMs: number) => void;
  /** The first peer connection (or a resumed one) connected. */
  onConnected: () => void;
  /** The call cannot go on. */
  onEnd: (end: SessionEnd) => void;
  /** A transport is done with: its output counters, for the metrics. */
  onRetired: (t: WebRtcTransport) => void;
  log: (msg: string) => void;
  graceMs?: number;
}

export class WebRtcCall {
  private readonly d: WebRtcCallDeps;
  private transport: WebRtcTransport | null = null;
  private pipeline: Pipeline | null = null;
  /** Answers in order: the first offer, then each resume. */
  private work: Promise<void> = Promise.resolve();
  private graceTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  /** Settles once every transport this call made has been released. */
  private readonly closing: Promise<void>[] = [];
  /** How often the call moved to a new peer connection. */
  resumes = 0;

  constructor(d: WebRtcCallDeps) {
    this.d = d;
  }

  /** Answers the session's offer (`resumed`: a takeover, the conversation started elsewhere). Rejects if it cannot. */
  start(offer: string, resumed: boolean): Promise<void> {
    return this.enqueue(() => this.answer(offer, resumed));
  }

  /** The client resumed with a fresh offer: the call moves to a new peer connection. Rejects if the offer cannot be answered. */
  resume(offer: string): Promise<void> {
    return this.enqueue(() => this.answer(offer, true));
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const run = this.work.then(step);
    this.work = run.catch(() => {});
    return run;
  }

  get current(): WebRtcTransport | null {
    return this.transport;
  }

  private async answer(offer: string, resumed: boolean): Promise<void> {
    if (this.closed) return;
    const offerAt = performance.now();
    const answered = await WebRtcTransport.answer(offer, this.d.options());
    const t = answered.transport;
    if (this.closed) {
      this.closing.push(t.close('ended_during_answer'));
      return;
    }
    let adopted = false;
    let closedEarly: string | undefined;
    t.onClose((reason) => (adopted ? this.transportClosed(t, reason) : (closedEarly = reason)));
    if (closedEarly !== undefined) {
      // Closed while the answer was made (the peer failed or left): a first answer ends the
      // session with why; a resume leaves the call where it is.
      if (!this.transport) this.d.onEnd(transportEnd(closedEarly));
      else this.closing.push(t.close(closedEarly));
      return;
    }
    adopted = true;
    const old = this.transport;
    const oldPipeline = this.pipeline;
    this.transport = t;
    this.pipeline = null;
    t.onConnected(() => {
      if (this.transport !== t) return;
      clearTimeout(this.graceTimer);
      this.graceTimer = undefined;
      this.d.onConnected();
    });
    this.d.sendAnswer(answered.answer, performance.now() - offerAt);
    if (old) {
      this.resumes++;
      // The old pipeline stops first, so its last reply cannot play into the new connection's
      // pipeline; the session lives on (this.pipeline no longer points at it).
      oldPipeline?.stop('resumed');
      await oldPipeline?.done;
      this.retire(old, 'resumed');
      if (this.transport !== t || this.closed) return;
    }
    this.startPipeline(t, resumed || old !== null);
  }

  private startPipeline(t: WebRtcTransport, resumed: boolean): void {
    const p = this.d.runPipeline(t, resumed);
    this.pipeline = p;
    void p.done.then(() => {
      // Ended by itself (the handler's output ended, the VAD failed): the session is over. A
      // pipeline stopped because its transport closed leaves the decision to transportClosed.
      if (this.pipeline !== p || this.closed || p.reason?.startsWith('transport closed')) return;
      this.d.onEnd({ reason: 'handler_closed', ...(p.reason ? { detail: p.reason } : {}) });
    });
  }

  private transportClosed(t: WebRtcTransport, reason: string): void {
    if (this.transport !== t || this.closed) return;
    if (RESUMABLE.has(reason)) {
      this.d.log(`peer connection closed (${reason}): waiting up to ${this.d.graceMs ?? RESUME_GRACE_MS} ms for the client to resume`);
      if (this.graceTimer === undefined) this.graceTimer = setTimeout(() => this.d.onEnd(transportEnd(reason)), this.d.graceMs ?? RESUME_GRACE_MS);
      return;
    }
    // A resumed connection that never connected, while the grace of a failed one still runs:
    // the grace decides (the client may offer again).
    if (this.graceTimer !== undefined) return;
    this.d.onEnd(transportEnd(reason));
  }

  private retire(t: WebRtcTransport, reason: string): void {
    this.d.onRetired(t);
    this.closing.push(t.close(reason));
  }

  /** A trickled candidate, for the current peer connection. */
  async addRemoteCandidate(candidate: string, mid: string | null): Promise<void> {
    await this.transport?.addRemoteCandidate(candidate, mid);
  }

  /**
   * Ends the call: stops the pipeline and closes the peer connection. Resolves once the handler
   * has finished and every peer connection (and one being answered) has been released.
   */
  async close(reason: string): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      clearTimeout(this.graceTimer);
      this.pipeline?.stop(reason);
      if (this.transport) this.retire(this.transport, reason);
    }
    // An answer under way closes what it made once it sees the call closed.
    await this.work;
    await this.pipeline?.done;
    await Promise.all(this.closing);
  }
}
