import type { ControlToWorker, IceServer, SessionJob } from '@switchboard/protocol';
import type { WorkerConfig } from '../config.ts';
import type { Handler, SessionInfo } from '../handlers/types.ts';
import type { Metrics } from '../http/metrics.ts';
import type { ControlChannel } from '../jobs/control-channel.ts';
import { runPipeline, type VadFactory } from '../pipeline/session-pipeline.ts';
import type { MediaTransport } from '../transport/types.ts';
import { TwilioTransport } from '../transport/twilio/twilio-transport.ts';
import { WebRtcTransport } from '../transport/webrtc/webrtc-transport.ts';
import { IceCredentialRefresher } from './ice-refresh.ts';

/** How long a claimed session may wait for the edge's `session` message. */
const HANDOVER_TIMEOUT_MS = 10_000;
/**
 * How long a phone session waits for Twilio's media stream to start: an outbound call is claimed
 * when it is placed and rings until the callee answers (Twilio's default ring timeout is 60 s).
 */
export const STREAM_START_TIMEOUT_MS = 75_000;

export interface SessionDeps {
  config: WorkerConfig;
  handler: Handler;
  vad: VadFactory;
  metrics: Metrics;
  log: (msg: string) => void;
}

/** A running session, as the worker tracks it. */
export interface RunningSession {
  readonly id: string;
  /** Resolves when the session has ended and released everything. */
  readonly done: Promise<void>;
  /** Ends it now (drain limit, shutdown). */
  end(reason: string): void;
}

/**
 * Serves one claimed session: takes the edge's handover, answers the offer (WebRTC) or serves
 * Twilio's media stream piped through the control channel (phone), runs the handler's pipeline
 * over the transport, relays trickle candidates and hang-ups, and reports the end to the edge.
 * Every path ends in `finish`, which releases the transport, the pipeline and the channel.
 */
export function runSession(job: SessionJob, channel: ControlChannel, deps: SessionDeps): RunningSession {
  let finish: (reason: string, tellEdge: boolean) => void = () => {};
  const done = new Promise<void>((resolveDone) => {
    let transport: WebRtcTransport | null = null;
    let phone: TwilioTransport | null = null;
    let pipeline: { done: Promise<void>; stop(reason: string): void } | null = null;
    /** The answer being made: a transport it creates after the end is closed by it. */
    let starting: Promise<void> = Promise.resolve();
    let finished = false;
    const timers: ReturnType<typeof setTimeout>[] = [];
    const refresher = new IceCredentialRefresher({ request: () => channel.send({ type: 'ice.refresh' }) });

    finish = (reason, tellEdge) => {
      if (finished) return;
      finished = true;
      for (const t of timers) clearTimeout(t);
      refresher.stop();
      deps.metrics.sessionsEnded.inc({ reason });
      pipeline?.stop(reason);
      let transportClosed: Promise<void> = Promise.resolve();
      if (transport) {
        const { lateTicks, ticksRun } = transport.stats();
        deps.metrics.framesLate.inc(lateTicks);
        deps.metrics.outputTicks.inc(ticksRun);
        transportClosed = transport.close(reason);
      }
      if (phone) {
        const { lateTicks, ticksRun } = phone.stats();
        deps.metrics.framesLate.inc(lateTicks);
        deps.metrics.outputTicks.inc(ticksRun);
        phone.close(reason);
      }
      if (tellEdge) channel.send({ type: 'end', detail: reason });
      // `done` waits until everything is released: the handler, the peer connection (its UDP
      // sockets; the SCTP ABORT that tells the client) and the control socket (so the `end`
      // message reaches the edge even when the process exits right after, as on SIGTERM).
      const released = [pipeline?.done, transportClosed, channel.close(1000, reason), starting.catch(() => {})];
      void Promise.all(released).finally(() => resolveDone());
    };

    timers.push(setTimeout(() => finish('handover_timeout', true), HANDOVER_TIMEOUT_MS));
    channel.onClose(() => finish('control_closed', false));
    channel.onMessage((msg) => {
      void onControl(msg).catch((err: Error) => {
        deps.metrics.errors.inc({ kind: 'session' });
        deps.log(`session ${job.sessionId}: ${err.message}`);
        finish(`error: ${err.message}`.slice(0, 120), true);
      });
    });

    async function onControl(msg: ControlToWorker): Promise<void> {
      switch (msg.type) {
        case 'session':
          clearTimeout(timers.shift());
          if (msg.kind === 'phone') {
            starting = startPhone({ id: msg.sessionId, kind: 'phone', call: msg.call, takeover: msg.takeover }, msg.endsAt);
            await starting;
            return;
          }
          if (!msg.offer) {
            finish('bad handover: a WebRTC session without an offer', true);
            return;
          }
          refresher.schedule(msg.iceServersExpiresAt);
          starting = startWebRtc(msg.offer, msg.iceServers, { id: msg.sessionId, kind: msg.kind }, msg.endsAt);
          await starting;
          return;
        case 'candidates':
          for (const c of msg.candidates) await transport?.addRemoteCandidate(c.candidate, c.mid);
          return;
        case 'hangup':
          finish(msg.reason, false);
          return;
        case 'error':
          deps.log(`session ${job.sessionId}: edge says ${msg.message}`);
          return;
        case 'ice-servers':
          transport?.updateIceServers(msg.iceServers);
          refresher.schedule(msg.expiresAt);
          return;
        case 'twilio':
          // Frames that arrive while the transport is being made wait for it, in order.
          await starting;
          phone?.receive(msg.message);
          return;
        case 'twilio.closed':
          finish('phone_hangup', false);
          return;
      }
    }

    /** Runs the pipeline over the session's transport; the session ends when it does, or at its time limit. */
    function runHandler(t: MediaTransport, session: SessionInfo, endsAt: number | null): void {
      const c = deps.config;
      const limit = Math.min(c.TIME_LIMIT_MS || Infinity, endsAt ? endsAt - Date.now() : Infinity);
      if (Number.isFinite(limit)) timers.push(setTimeout(() => finish('time_limit', true), Math.max(0, limit)));
      pipeline = runPipeline({
        handler: deps.handler,
        transport: t,
        session,
        vad: deps.vad,
        onMetrics: () => deps.metrics.turns.inc(),
      });
      void pipeline.done.then(() => finish('handler_closed', true));
    }

    /**
     * A phone call: Twilio's frames arrive as `twilio` control messages; ours go back the same way.
     * The handler starts at once (an outbound call's greeting is ready when the callee answers);
     * the call is live when Twilio's `start` arrives.
     */
    async function startPhone(session: SessionInfo, endsAt: number | null) {
      const t = await TwilioTransport.create({
        send: (messages) => channel.send({ type: 'twilio', messages }),
        log: (m) => deps.log(`session ${job.sessionId}: ${m}`),
      });
      phone = t;
      if (finished) {
        t.close('ended_during_start');
        return;
      }
      t.onClose((reason) => finish(reason, true));
      const noStream = setTimeout(() => finish('no_media_stream', true), STREAM_START_TIMEOUT_MS);
      timers.push(noStream);
      t.onStart(() => {
        clearTimeout(noStream);
        channel.send({ type: 'state', state: 'live' });
      });
      runHandler(t, session, endsAt);
    }

    async function startWebRtc(offer: string, iceServers: IceServer[], session: SessionInfo, endsAt: number | null) {
      const c = deps.config;
      const offerAt = performance.now();
      const answered = await WebRtcTransport.answer(offer, {
        iceServers,
        icePolicy: c.ICE_POLICY,
        portRange: c.RTC_PORT_MIN ? [c.RTC_PORT_MIN, c.RTC_PORT_MAX] : undefined,
        publicIp: c.PUBLIC_IP,
        interfaceAddress: c.RTC_INTERFACE,
        opus: { application: c.OPUS_APPLICATION, complexity: c.OPUS_COMPLEXITY, bitrate: c.OPUS_BITRATE },
        inputSampleRate: deps.handler.options.inputSampleRate,
        fastPath: c.RTP_FAST_PATH === 'on',
      });
      transport = answered.transport;
      if (finished) {
        await transport.close('ended_during_answer');
        return;
      }
      transport.onClose((reason) => finish(reason, true));
      // Already closed (the peer failed or left while the answer was made): finish ran just now.
      if (finished) return;
      transport.onConnected(() => channel.send({ type: 'state', state: 'live' }));
      channel.send({ type: 'answer', sdp: answered.answer });
      deps.metrics.answerLatency.observe((performance.now() - offerAt) / 1000);
      runHandler(transport, session, endsAt);
    }
  });
  return { id: job.sessionId, done, end: (reason) => finish(reason, true) };
}
