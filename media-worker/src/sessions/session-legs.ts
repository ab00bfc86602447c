/**
 * The legs of one session on its worker: the first caller's transport (the primary, whatever
 * carries it) and the phone legs the edge adds (`leg.add`), each a SocketTransport over its own
 * media socket to the leg's Durable Object. While any added leg is joined, every leg runs through
 * one Conference (per-listener mix, no self-echo) and the handler's pipeline hears and speaks
 * through it (ConferenceView); with the primary alone again, the conference is retired once the
 * handler's audio in it has played out, and the primary is served directly.
 *
 * It reports to the edge what only the worker sees (`leg.joined` when a leg's stream starts,
 * `leg.left` when it stops or its socket closes) and tells the primary's client (`leg.joined`,
 * `leg.left` events).
 */
import type { ChannelMessage, ControlToEdge, ControlToWorker, LegHandover, WorkerEndReason } from '@switchboard/protocol';
import type { AudioFrame } from '../audio/frame.ts';
import type { SegmentResult } from '../audio/playout/types.ts';
import { Conference } from '../conference/conference.ts';
import { ConferenceView } from '../conference/conference-view.ts';
import { LegDialError, type DialOptions, type LegInfo, type LegsApi } from '../conference/legs-api.ts';
import { playTo } from '../conference/play-to.ts';
import type { VadFactory } from '../pipeline/session-pipeline.ts';
import type { MediaTransport } from '../transport/types.ts';
import { serializerFor } from '../transport/socket/serializers/index.ts';
import { SocketTransport } from '../transport/socket/socket-transport.ts';
import { EdgeRequests, type TransferOutcome } from './edge-requests.ts';
import { LegTaps } from './leg-taps.ts';
import { transportEnd } from './end-reason.ts';

/** How long a dialled leg may ring before its stream starts (the providers ring for up to 60 s). */
export const LEG_RING_TIMEOUT_MS = 75_000;
/** A phone leg's output holds its provider's lead (200 ms) plus acknowledgement round trips: its live bound. */
const PHONE_LIVE_BOUND_MS = 300;
const WEBRTC_LIVE_BOUND_MS = 100;

export interface SessionLegsDeps {
  sessionId: string;
  /** The rate the conference mixes at. */
  sampleRate: number;
  socket: { edgeUrl: string; workerId: string };
  /** To the edge, over the control socket. */
  report: (msg: Extract<ControlToEdge, { type: 'leg.joined' | 'leg.left' | 'leg.dial' | 'leg.hangup' | 'transfer' }>) => void;
  log: (m: string) => void;
  /** Wall clock for events' `at`, ms. */
  now?: () => number;
  /** Makes a VAD stream per leg (who is speaking, in a conference); without it, nobody is tracked. */
  vad?: VadFactory;
}

interface AddedLeg {
  readonly transport: SocketTransport;
  readonly to: string;
  joined: boolean;
  /** The edge dropped it (no `leg.left` goes back), and why. */
  removed: boolean;
  removedWhy?: { reason: string; detail?: string | undefined };
  ringTimer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * How a leg joins the conference, by its transport: a WebRTC leg's packets reach the mixer in the
 * receive batch drained right after each tick (transport/receive-batch.ts), at a fixed phase
 * of the mixer's clock, so a one-frame cushion suffices (the buffer deepens itself on underruns);
 * a socket's frames come at any phase and keep the default 40 ms. Measured web -> phone through
 * the conference: 108.8 ms p50 with 40 ms for both (`npm run bench -- --only legs`).
 */
const joinOptions = (t: MediaTransport) =>
  t.kind === 'webrtc' ? { liveBoundMs: WEBRTC_LIVE_BOUND_MS, jitter: { targetMs: 20 } } : { liveBoundMs: PHONE_LIVE_BOUND_MS };

export class SessionLegs {
  readonly #d: SessionLegsDeps;
  readonly #legs = new Map<string, AddedLeg>();
  readonly #now: () => number;
  #view: ConferenceView | null = null;
  #conference: Conference | null = null;
  #starting: Promise<Conference> | null = null;
  #closed = false;
  /** The dials and cold transfers the edge answers. */
  readonly #requests: EdgeRequests;
  /** Dialled legs the handler waits on, until they join or leave. */
  readonly #joining = new Map<string, { resolve: (leg: LegInfo) => void; reject: (err: Error) => void }>();
  /** Each leg's own audio and who is speaking (`ctx.legs.listen`, `speaking`). */
  readonly #taps: LegTaps;
  /** Why recent legs left (the handler's dial may learn of it after the fact); bounded. */
  readonly #leftWhy = new Map<string, { reason: string; detail?: string | undefined }>();
  /** The handler's view of the legs (`ctx.legs`). */
  readonly api: LegsApi;
  /** The conference runs for the whole session (recording), even with the primary alone. */
  #kept = false;

  constructor(deps: SessionLegsDeps) {
    this.#d = deps;
    this.#now = deps.now ?? (() => performance.timeOrigin + performance.now());
    this.#requests = new EdgeRequests((msg) => deps.report(msg));
    this.#taps = new LegTaps({ primaryId: deps.sessionId, vad: deps.vad, send: (e) => this.#view?.sendEvent(e), log: deps.log, now: this.#now });
    const legs = this;
    this.api = {
      list: () => this.list(),
      dial: (to, o) => this.dial(to, o),
      hangup: (legId) => this.hangup(legId),
      transferAway: (legId, to, o) => this.transferAway(legId, to, o),
      listen: (cb) => this.listen(cb),
      speaking: () => this.#taps.speaking(),
      say: (legId, audio, signal) => this.say(legId, audio, signal),
      leave: () => this.#view?.setPresent(false),
      join: () => this.#view?.setPresent(true),
      get present() {
        return legs.#view?.present ?? true;
      },
    };
  }

  list(): LegInfo[] {
    const primary: LegInfo = { legId: this.#d.sessionId, kind: this.#view?.primary.kind ?? 'webrtc', state: 'joined', primary: true };
    const added = [...this.#legs].map(([legId, l]): LegInfo => ({ legId, kind: 'phone', state: l.joined ? 'joined' : 'dialing', primary: false, to: l.to }));
    return [primary, ...added];
  }

  /** An event for the session's first caller (the only leg with a channel). */
  primaryEvent(event: ChannelMessage): void {
    this.#view?.sendEvent(event);
  }

  /** The handler dials `to` (the edge places the call); resolves once the callee's stream started. */
  async dial(to: string, o: DialOptions = {}): Promise<LegInfo> {
    if (this.#closed) throw new LegDialError('ended', 'the session has ended');
    const legId = await this.#requests.dial(to, o);
    return new Promise<LegInfo>((resolve, reject) => {
      const leg = this.#legs.get(legId);
      const left = this.#leftWhy.get(legId);
      if (leg?.joined) return resolve(this.list().find((l) => l.legId === legId)!);
      if (!leg) return reject(new LegDialError(left?.reason ?? 'error', left?.detail ?? 'the leg is gone'));
      const onAbort = () => this.hangup(legId);
      o.signal?.addEventListener('abort', onAbort, { once: true });
      this.#joining.set(legId, {
        resolve: (info) => (o.signal?.removeEventListener('abort', onAbort), resolve(info)),
        reject: (err) => (o.signal?.removeEventListener('abort', onAbort), reject(err)),
      });
    });
  }

  /**
   * Cold transfer of a phone leg: its stream is expected to end (the call pauses, the no-media
   * watchdog rests) while the provider dials `to`; resolves with the edge's `transfer.result`.
   */
  transferAway(legId: string, to: string, o: { from?: string } = {}): Promise<TransferOutcome> {
    const transport = legId === this.#d.sessionId ? this.#view?.primary : this.#legs.get(legId)?.transport;
    if (!(transport instanceof SocketTransport) || transport.kind !== 'phone')
      return Promise.resolve({ ok: false, reason: 'unsupported', detail: 'only a phone leg can be transferred cold' });
    if (this.#closed) return Promise.resolve({ ok: false, reason: 'ended' });
    transport.goingAway();
    return this.#requests.transfer(legId, to, o, () => transport.awayEnded());
  }

  /** The handler hangs a leg up: the edge ends its call; the worker drops it at once. */
  hangup(legId: string): boolean {
    const leg = this.#legs.get(legId);
    if (!leg) return false;
    this.#d.report({ type: 'leg.hangup', legId });
    leg.removed = true;
    leg.removedWhy = { reason: 'worker_ended', detail: 'the handler hung up' };
    void leg.transport.close('client_hangup');
    return true;
  }

  /** Audio to one leg only: through the conference, or the primary's own output while it is alone. */
  say(legId: string, audio: AsyncIterable<AudioFrame> | Iterable<AudioFrame>, signal?: AbortSignal): Promise<SegmentResult> {
    const conf = this.#conference;
    const out =
      conf?.has(legId) === true ? conf.handlerOutputTo(legId) : legId === this.#d.sessionId && !conf && this.#view ? this.#view.primary.output : null;
    if (!out) return Promise.reject(new Error(`no leg ${legId} to speak to (a dialled leg can be spoken to once it joined)`));
    return playTo(out, audio, { ...(signal ? { signal } : {}), stopped: () => this.#closed });
  }

  /** Each leg's own audio, tagged: from the conference's ticks, or the caller's frames while it is alone. */
  listen(cb: (legId: string, frame: AudioFrame) => void): () => void {
    return this.#taps.listen(cb);
  }

  /** The edge's messages about legs; false for any other message. */
  control(msg: ControlToWorker): boolean {
    switch (msg.type) {
      case 'leg.add':
        this.add(msg.leg);
        return true;
      case 'leg.remove':
        this.remove(msg.legId, msg.reason, msg.detail);
        return true;
      case 'leg.dialed':
        this.#requests.dialed(msg);
        return true;
      case 'transfer.result':
        this.#requests.transferResult(msg);
        return true;
      default:
        return false;
    }
  }

  /** The handler's view of the session over the primary's (new) transport: a pipeline runs on it. */
  attach(primary: MediaTransport): ConferenceView {
    this.#view?.detach();
    const view = new ConferenceView(primary);
    view.legs = this.api;
    this.#view = view;
    this.#taps.primary(primary);
    const conf = this.#conference;
    if (conf) {
      if (conf.has(this.#d.sessionId)) conf.replaceTransport(this.#d.sessionId, primary);
      else conf.addLeg(this.#d.sessionId, primary, joinOptions(primary));
      view.useConference(conf);
    }
    return view;
  }

  /** Legs dialled and not yet gone. */
  get size(): number {
    return this.#legs.size;
  }

  get conference(): Conference | null {
    return this.#conference;
  }

  /**
   * Runs the conference from now until the session ends, even with the primary alone: a session
   * being recorded needs every leg's audio and the mix, tick by tick (Conference.onTick).
   */
  keepConference(): Promise<Conference> {
    this.#kept = true;
    return this.#ensureConference();
  }

  /** A leg the edge dialled (or, on a takeover, one still up): its media socket is dialled now; the callee joins when the stream starts. */
  add(leg: LegHandover): void {
    if (this.#closed || this.#legs.has(leg.legId)) return;
    const log = (m: string) => this.#d.log(`leg ${leg.legId}: ${m}`);
    const transport = new SocketTransport({
      kind: 'phone',
      serializer: serializerFor(leg.call.provider),
      socket: { edgeUrl: this.#d.socket.edgeUrl, sessionId: leg.legId, token: leg.resumeToken, workerId: this.#d.socket.workerId },
      log,
    });
    const added: AddedLeg = { transport, to: leg.call.to, joined: false, removed: false, ringTimer: undefined };
    added.ringTimer = setTimeout(() => void transport.close('no_media_stream'), LEG_RING_TIMEOUT_MS);
    this.#legs.set(leg.legId, added);
    transport.onStart(() => void this.#joined(leg.legId, added).catch((err: unknown) => log(`joining the conference failed: ${String(err)}`)));
    transport.onEvent((event) => this.#view?.legEvent(leg.legId, event));
    transport.onClose((reason) => this.#left(leg.legId, added, reason));
    transport.open().catch((err: unknown) => {
      log(`media socket failed: ${err instanceof Error ? err.message : String(err)}`);
      void transport.close('error');
    });
  }

  /** The edge dropped the leg (hung up, failed, removed). */
  remove(legId: string, reason: string, detail?: string): void {
    const leg = this.#legs.get(legId);
    if (!leg) return;
    leg.removed = true;
    leg.removedWhy = { reason, detail };
    void leg.transport.close(reason === 'client_hangup' ? 'client_hangup' : 'phone_hangup');
  }

  /** The session is over: every leg's socket is closed and the conference stopped. */
  async close(reason: string): Promise<void> {
    this.#closed = true;
    this.#requests.closeAll(reason);
    for (const p of this.#joining.values()) p.reject(new LegDialError('ended', reason));
    this.#joining.clear();
    const closing = [...this.#legs.values()].map((l) => {
      l.removed = true;
      clearTimeout(l.ringTimer);
      return l.transport.close(reason);
    });
    this.#legs.clear();
    this.#view?.detach();
    this.#taps.close();
    this.#conference?.close();
    this.#conference = null;
    await Promise.allSettled(closing);
  }

  async #joined(legId: string, leg: AddedLeg): Promise<void> {
    clearTimeout(leg.ringTimer);
    if (leg.joined || this.#closed) return;
    leg.joined = true;
    this.#d.report({ type: 'leg.joined', legId });
    this.#view?.sendEvent({ type: 'leg.joined', legId, kind: 'phone', at: this.#now() });
    const conf = await this.#ensureConference();
    if (this.#legs.get(legId) !== leg || this.#closed) return;
    conf.addLeg(legId, leg.transport, joinOptions(leg.transport));
    const waiting = this.#joining.get(legId);
    this.#joining.delete(legId);
    waiting?.resolve(this.list().find((l) => l.legId === legId)!);
  }

  #left(legId: string, leg: AddedLeg, reason: string): void {
    clearTimeout(leg.ringTimer);
    if (this.#legs.get(legId) !== leg) return;
    this.#legs.delete(legId);
    this.#conference?.removeLeg(legId);
    const end = transportEnd(reason);
    const why = leg.removedWhy ?? { reason: end.reason, detail: end.detail };
    this.#leftWhy.set(legId, why);
    if (this.#leftWhy.size > 32) this.#leftWhy.delete(this.#leftWhy.keys().next().value!);
    const waiting = this.#joining.get(legId);
    this.#joining.delete(legId);
    waiting?.reject(new LegDialError(why.reason, why.detail));
    if (!leg.removed) this.#d.report({ type: 'leg.left', legId, reason: end.reason as WorkerEndReason, ...(end.detail ? { detail: end.detail } : {}) });
    if (!this.#closed) this.#view?.sendEvent({ type: 'leg.left', legId, reason: end.reason, at: this.#now() });
    if (![...this.#legs.values()].some((l) => l.joined)) void this.#retireWhenIdle();
  }

  async #ensureConference(): Promise<Conference> {
    if (this.#conference) return this.#conference;
    this.#starting ??= Conference.create({ sampleRate: this.#d.sampleRate }).then((conf) => {
      this.#conference = conf;
      this.#starting = null;
      this.#taps.conference(conf);
      const view = this.#view;
      if (view) {
        conf.addLeg(this.#d.sessionId, view.primary, joinOptions(view.primary));
        view.useConference(conf);
      }
      return conf;
    });
    return this.#starting;
  }

  /** No other leg is joined: once the handler's audio in the mix has played, the primary is served directly again. */
  async #retireWhenIdle(): Promise<void> {
    const conf = this.#conference;
    if (!conf || this.#kept) return;
    const idle = new AbortController();
    await conf.handlerOutput.whenQueuedAtMost(0, idle.signal);
    if (this.#conference !== conf || this.#kept || [...this.#legs.values()].some((l) => l.joined)) return;
    this.#conference = null;
    this.#view?.useConference(null);
    this.#taps.conference(null);
    conf.close();
  }
}
