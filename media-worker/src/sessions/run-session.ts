import type { ControlToWorker, IceServer, SessionJob, WorkerEndReason } from '@switchboard/protocol';
import type { WorkerConfig } from '../config.ts';
import type { Handler, SessionInfo } from '../handlers/types.ts';
import type { Metrics } from '../http/metrics.ts';
import type { ControlChannel } from '../jobs/control-channel.ts';
import { restoreState } from '../pipeline/checkpoint.ts';
import { runPipeline, type Pipeline, type VadFactory } from '../pipeline/session-pipeline.ts';
import type { MediaTransport } from '../transport/types.ts';
import { serializerFor } from '../transport/socket/serializers/index.ts';
import { SocketTransport } from '../transport/socket/socket-transport.ts';
import { errorEnd, hangupEnd, transportEnd, detailOf } from './end-reason.ts';
import { IceCredentialRefresher } from './ice-refresh.ts';
import { SessionLegs } from './session-legs.ts';
import type { SessionRecording } from '../recording/session-recording.ts';
import { finishRecording, recordSession } from './session-recording-link.ts';
import { UdpMux } from '../werift-patches/udp-mux.ts';
import { WebRtcCall } from './webrtc-call.ts';

/** How long a claimed session may wait for the edge's `session` message. */
const HANDOVER_TIMEOUT_MS = 10_000;
/**
 * How long a phone session waits for the provider's media stream to start: an outbound call is
 * claimed when it is placed and rings until the callee answers (Twilio's default ring timeout is
 * 60 s). A stream client's `start` is at the edge before the worker claims, so it comes at once.
 */
export const STREAM_START_TIMEOUT_MS = 75_000;
/**
 * The control WebSocket's close code when a phone call is handed to another worker (drain limit):
 * no `end` is sent, so the edge re-queues the call as a takeover, as for a lost worker.
 */
export const HANDOFF_CLOSE_CODE = 1012;

export interface SessionDeps {
  config: WorkerConfig;
  handler: Handler;
  vad: VadFactory;
  metrics: Metrics;
  log: (msg: string) => void;
  /** This worker's id: the edge accepts a session's media socket only from the worker holding it. */
  workerId: string;
}

/** A running session, as the worker tracks it. */
export interface RunningSession {
  readonly id: string;
  /** Resolves when the session has ended and released everything. */
  readonly done: Promise<void>;
  /** Ends it now (shutdown). */
  end(reason: WorkerEndReason): void;
  /**
   * The drain limit: a phone call is handed to another worker (its state checkpointed, the
   * control channel closed without `end`: the edge re-queues it as a takeover); anything else
   * ends with 'drain_timeout'.
   */
  drainTimeout(): void;
}

/**
 * Serves one claimed session: takes the edge's handover, answers the offer (WebRTC) or dials the
 * session's media socket (a phone provider's stream or a stream client, relayed by the edge's
 * Durable Object; socket-transport.ts), runs the handler's pipeline
 * over the transport, relays trickle candidates, resumes (a fresh offer moves the call to a new
 * peer connection) and hang-ups, checkpoints the handler's `ctx.state` to the edge, and reports
 * the end to the edge. Every path ends in `finish`, which releases the transport, the pipeline
 * and the channel.
 */
export function runSession(job: SessionJob, channel: ControlChannel, deps: SessionDeps): RunningSession {
  let finish: (reason: WorkerEndReason, detail?: string) => void = () => {};
  let drainTimeout: () => void = () => {};
  const done = new Promise<void>((resolveDone) => {
    let webrtc: WebRtcCall | null = null;
    let phone: SocketTransport | null = null;
    let pipeline: Pipeline | null = null;
    /** The handler's `ctx.state`, from the handover; shared by every pipeline of the session. */
    let state: Record<string, unknown> = {};
    /** Its JSON as last checkpointed (or restored). */
    let stateJson = '{}';
    let iceServers: IceServer[] = [];
    /** The transport being made: one it creates after the end is closed by it. */
    let starting: Promise<void> = Promise.resolve();
    let finished = false;
    let handedOver = false;
    let limitSet = false;
    const timers: ReturnType<typeof setTimeout>[] = [];
    let recording: SessionRecording | null = null;
    const refresher = new IceCredentialRefresher({ request: () => channel.send({ type: 'ice.refresh' }) });
    const log = (m: string) => deps.log(`session ${job.sessionId}: ${m}`);
    const legs = new SessionLegs({
      sessionId: job.sessionId,
      sampleRate: deps.handler.options.inputSampleRate,
      socket: { edgeUrl: deps.config.PUBLIC_BASE_URL, workerId: deps.workerId },
      report: (msg) => channel.send(msg),
      log,
      vad: deps.vad,
    });

    /**
     * Stops everything and closes the control channel with `closeCode`: 1000 after `end`, or
     * HANDOFF_CLOSE_CODE when the call is handed over without one (the edge re-queues it).
     */
    const release = (reason: string, closeCode: number): void => {
      for (const t of timers) clearTimeout(t);
      refresher.stop();
      pipeline?.stop(reason);
      if (recording) {
        void finishRecording(recording, (m) => channel.send(m), (e) => legs.primaryEvent(e)).then(({ reported }) => closeAll(reason, closeCode, reported));
        return;
      }
      closeAll(reason, closeCode, undefined);
    };

    /** Closes the transports, the legs and the control channel (after the recording's report, if any). */
    const closeAll = (reason: string, closeCode: number, recorded: Promise<unknown> | undefined): void => {
      const webrtcClosed = webrtc?.close(reason);
      let phoneClosed: Promise<void> | undefined;
      if (phone) {
        const { lateTicks, ticksRun } = phone.stats();
        deps.metrics.framesLate.inc(lateTicks);
        deps.metrics.outputTicks.inc(ticksRun);
        phoneClosed = phone.close(reason);
      }
      // `done` waits until everything is released: the handler, the peer connection (its UDP
      // sockets; the SCTP ABORT that tells the client) and the control socket (so the `end`
      // message reaches the edge even when the process exits right after, as on SIGTERM).
      const channelClosed = (recorded ?? Promise.resolve()).finally(() => channel.close(closeCode, reason));
      const released = [pipeline?.done, webrtcClosed, phoneClosed, legs.close(reason), channelClosed, starting.catch(() => {})];
      void Promise.all(released).finally(() => resolveDone());
    };

    finish = (reason, detail) => {
      if (finished) return;
      finished = true;
      deps.metrics.sessionsEnded.inc({ reason });
      channel.send({ type: 'end', reason, ...(detail ? { detail: detailOf(detail) } : {}) });
      release(reason, 1000);
    };

    drainTimeout = () => {
      if (finished) return;
      if (!phone) {
        finish('drain_timeout');
        return;
      }
      finished = true;
      log('drain limit reached: handing the call to another worker');
      pipeline?.checkpoint();
      release('handoff', HANDOFF_CLOSE_CODE);
    };

    const fail = (err: unknown) => {
      deps.metrics.errors.inc({ kind: 'session' });
      log(err instanceof Error ? err.message : String(err));
      const e = errorEnd(err);
      finish(e.reason, e.detail);
    };

    timers.push(setTimeout(() => finish('handover_timeout'), HANDOVER_TIMEOUT_MS));
    channel.onClose(() => finish('control_closed'));
    channel.onMessage((msg) => {
      void onControl(msg).catch(fail);
    });

    async function onControl(msg: ControlToWorker): Promise<void> {
      if (legs.control(msg)) return;
      switch (msg.type) {
        case 'session': {
          if (handedOver) {
            log('a second `session` message: ignored');
            return;
          }
          handedOver = true;
          clearTimeout(timers.shift());
          ({ state, json: stateJson } = restoreState(msg.state, log));
          for (const leg of msg.legs ?? []) legs.add(leg);
          if (msg.record || deps.config.RECORD_ALL) recording = recordSession({ sessionId: job.sessionId, legs, config: deps.config, log, takeover: msg.takeover === true });
          if (msg.kind === 'phone' || msg.kind === 'stream') {
            starting = startSocket(msg.kind, { id: msg.sessionId, kind: msg.kind, call: msg.call, takeover: msg.takeover }, msg.resumeToken, msg.endsAt);
            await starting;
            return;
          }
          if (!msg.offer) {
            finish('bad_handover', 'a WebRTC session without an offer');
            return;
          }
          refresher.schedule(msg.iceServersExpiresAt);
          iceServers = msg.iceServers;
          starting = startWebRtc(msg.offer, { id: msg.sessionId, kind: msg.kind, takeover: msg.takeover }, msg.endsAt);
          await starting;
          return;
        }
        case 'offer':
          // Only a WebRTC call can move (the edge routes resumes of WebRTC sessions only).
          if (!webrtc) {
            log('a resume offer for a session without a WebRTC call: ignored');
            return;
          }
          try {
            await webrtc.resume(msg.offer);
          } catch (err) {
            // The call goes on where it is (or its grace runs out): a bad resume offer ends nothing.
            log(`resume failed: ${err instanceof Error ? err.message : String(err)}`);
          }
          return;
        case 'candidates':
          for (const c of msg.candidates) await webrtc?.addRemoteCandidate(c.candidate, c.mid);
          return;
        case 'hangup': {
          const e = hangupEnd(msg.reason);
          finish(e.reason, e.detail);
          return;
        }
        case 'error':
          log(`edge says ${msg.message}`);
          return;
        case 'ice-servers':
          iceServers = msg.iceServers;
          webrtc?.current?.updateIceServers(msg.iceServers);
          refresher.schedule(msg.expiresAt);
          return;
        case 'media.lost':
          // The stream closed without stop: the call goes on in the next stream Twilio opens.
          await starting;
          phone?.streamLost(msg.streamId);
          return;
      }
    }

    /** Runs the handler's pipeline over a transport, with the session's state and its checkpoints. */
    function startPipeline(t: MediaTransport, session: SessionInfo): Pipeline {
      return runPipeline({
        handler: deps.handler,
        // The pipeline hears and speaks through the session's legs: the primary alone, or the conference.
        transport: legs.attach(t),
        session,
        vad: deps.vad,
        onMetrics: () => deps.metrics.turns.inc(),
        state,
        stateJson,
        onCheckpoint: (json) => {
          stateJson = json;
          channel.send({ type: 'checkpoint', state: json });
        },
      });
    }

    /** The session's time limit (TIME_LIMIT_MS or the edge's endsAt, whichever comes first). */
    function setTimeLimit(endsAt: number | null): void {
      if (limitSet) return;
      limitSet = true;
      const c = deps.config;
      const limit = Math.min(c.TIME_LIMIT_MS || Infinity, endsAt ? endsAt - Date.now() : Infinity);
      if (Number.isFinite(limit)) timers.push(setTimeout(() => finish('time_limit'), Math.max(0, limit)));
    }

    /**
     * A phone call or a stream client: the transport dials the session's media socket, over which
     * the edge relays the peer's frames (the stream's `start` first, once there is one). The
     * handler starts at once (an outbound call's greeting is ready when the callee answers); the
     * call is live when `start` arrives. The session ends when the pipeline does.
     */
    async function startSocket(kind: 'phone' | 'stream', session: SessionInfo, resumeToken: string, endsAt: number | null) {
      const provider = kind === 'stream' ? 'stream' : (session.call?.provider ?? 'twilio');
      const t = new SocketTransport({
        kind,
        serializer: serializerFor(provider),
        socket: { edgeUrl: deps.config.PUBLIC_BASE_URL, sessionId: job.sessionId, token: resumeToken, workerId: deps.workerId },
        log,
      });
      phone = t;
      t.onClose((reason) => {
        const e = transportEnd(reason);
        finish(e.reason, e.detail);
      });
      const noStream = setTimeout(() => finish('no_media_stream'), STREAM_START_TIMEOUT_MS);
      timers.push(noStream);
      t.onStart(() => {
        clearTimeout(noStream);
        channel.send({ type: 'state', state: 'live' });
      });
      try {
        await t.open();
      } catch (err) {
        finish('error', err instanceof Error ? err.message : String(err));
        return;
      }
      if (finished) return;
      setTimeLimit(endsAt);
      const p = startPipeline(t, session);
      pipeline = p;
      void p.done.then(() => finish('handler_closed', p.reason));
    }

    /**
     * A browser call: the offer is answered on a new peer connection; a resume offer later moves
     * the call to another (webrtc-call.ts). `session.takeover`: the conversation started on a
     * worker that was lost, so no greeting.
     */
    async function startWebRtc(offer: string, session: SessionInfo, endsAt: number | null) {
      const c = deps.config;
      // Bound at start (main.ts): this resolves at once to the process's shared socket.
      const udpMux = c.RTC_UDP_PORT === null ? undefined : await UdpMux.shared(c.RTC_UDP_PORT, c.RTC_INTERFACE || undefined).catch(() => null);
      if (finished) return;
      if (udpMux === null) return finish('answer_failed', `no UDP socket on RTC_UDP_PORT ${c.RTC_UDP_PORT}`);
      const call = new WebRtcCall({
        options: () => ({
          iceServers,
          icePolicy: c.ICE_POLICY,
          portRange: c.RTC_PORT_MIN ? [c.RTC_PORT_MIN, c.RTC_PORT_MAX] : undefined,
          udpMux,
          publicIp: c.PUBLIC_IP,
          interfaceAddress: c.RTC_INTERFACE,
          opus: { application: c.OPUS_APPLICATION, complexity: c.OPUS_COMPLEXITY, bitrate: c.OPUS_BITRATE },
          inputSampleRate: deps.handler.options.inputSampleRate,
          fastPath: c.RTP_FAST_PATH === 'on',
          allowPeerAddresses: c.RTC_ALLOW_PEER_ADDRESSES,
          log,
        }),
        runPipeline: (t, resumed) => startPipeline(t, resumed ? { ...session, takeover: true } : session),
        sendAnswer: (sdp, answerMs) => {
          channel.send({ type: 'answer', sdp });
          deps.metrics.answerLatency.observe(answerMs / 1000);
        },
        onConnected: () => channel.send({ type: 'state', state: 'live' }),
        onEnd: (e) => finish(e.reason, e.detail),
        onRetired: (t) => {
          const { lateTicks, ticksRun } = t.stats();
          deps.metrics.framesLate.inc(lateTicks);
          deps.metrics.outputTicks.inc(ticksRun);
        },
        log,
        graceMs: c.RESUME_GRACE_MS,
      });
      webrtc = call;
      setTimeLimit(endsAt);
      try {
        await call.start(offer, session.takeover === true);
      } catch (err) {
        // An offer the worker cannot answer counts as a session error.
        deps.metrics.errors.inc({ kind: 'session' });
        log(`answer failed: ${err instanceof Error ? err.message : String(err)}`);
        finish('answer_failed', err instanceof Error ? err.message : String(err));
      }
    }
  });
  return { id: job.sessionId, done, end: (reason) => finish(reason), drainTimeout: () => drainTimeout() };
}
