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
import type { ControlToEdge, LegHandover, WorkerEndReason } from '@switchboard/protocol';
import { Conference } from '../conference/conference.ts';
import { ConferenceView } from '../conference/conference-view.ts';
import type { MediaTransport } from '../transport/types.ts';
import { serializerFor } from '../transport/socket/serializers/index.ts';
import { SocketTransport } from '../transport/socket/socket-transport.ts';
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
  report: (msg: Extract<ControlToEdge, { type: 'leg.joined' | 'leg.left' }>) => void;
  log: (m: string) => void;
  /** Wall clock for events' `at`, ms. */
  now?: () => number;
}

interface AddedLeg {
  readonly transport: SocketTransport;
  joined: boolean;
  /** The edge dropped it (no `leg.left` goes back). */
  removed: boolean;
  ringTimer: ReturnType<typeof setTimeout> | undefined;
}

const boundFor = (t: MediaTransport) => (t.kind === 'webrtc' ? WEBRTC_LIVE_BOUND_MS : PHONE_LIVE_BOUND_MS);

export class SessionLegs {
  readonly #d: SessionLegsDeps;
  readonly #legs = new Map<string, AddedLeg>();
  readonly #now: () => number;
  #view: ConferenceView | null = null;
  #conference: Conference | null = null;
  #starting: Promise<Conference> | null = null;
  #closed = false;

  constructor(deps: SessionLegsDeps) {
    this.#d = deps;
    this.#now = deps.now ?? (() => performance.timeOrigin + performance.now());
  }

  /** The handler's view of the session over the primary's (new) transport: a pipeline runs on it. */
  attach(primary: MediaTransport): ConferenceView {
    this.#view?.detach();
    const view = new ConferenceView(primary);
    this.#view = view;
    const conf = this.#conference;
    if (conf) {
      if (conf.has(this.#d.sessionId)) conf.replaceTransport(this.#d.sessionId, primary);
      else conf.addLeg(this.#d.sessionId, primary, { liveBoundMs: boundFor(primary) });
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
    const added: AddedLeg = { transport, joined: false, removed: false, ringTimer: undefined };
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
  remove(legId: string, reason: string): void {
    const leg = this.#legs.get(legId);
    if (!leg) return;
    leg.removed = true;
    void leg.transport.close(reason === 'client_hangup' ? 'client_hangup' : 'phone_hangup');
  }

  /** The session is over: every leg's socket is closed and the conference stopped. */
  async close(reason: string): Promise<void> {
    this.#closed = true;
    const closing = [...this.#legs.values()].map((l) => {
      l.removed = true;
      clearTimeout(l.ringTimer);
      return l.transport.close(reason);
    });
    this.#legs.clear();
    this.#view?.detach();
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
    conf.addLeg(legId, leg.transport, { liveBoundMs: PHONE_LIVE_BOUND_MS });
  }

  #left(legId: string, leg: AddedLeg, reason: string): void {
    clearTimeout(leg.ringTimer);
    if (this.#legs.get(legId) !== leg) return;
    this.#legs.delete(legId);
    this.#conference?.removeLeg(legId);
    const end = transportEnd(reason);
    if (!leg.removed) this.#d.report({ type: 'leg.left', legId, reason: end.reason as WorkerEndReason, ...(end.detail ? { detail: end.detail } : {}) });
    if (!this.#closed) this.#view?.sendEvent({ type: 'leg.left', legId, reason: end.reason, at: this.#now() });
    if (![...this.#legs.values()].some((l) => l.joined)) void this.#retireWhenIdle();
  }

  async #ensureConference(): Promise<Conference> {
    if (this.#conference) return this.#conference;
    this.#starting ??= Conference.create({ sampleRate: this.#d.sampleRate }).then((conf) => {
      this.#conference = conf;
      this.#starting = null;
      const view = this.#view;
      if (view) {
        conf.addLeg(this.#d.sessionId, view.primary, { liveBoundMs: boundFor(view.primary) });
        view.useConference(conf);
      }
      return conf;
    });
    return this.#starting;
  }

  /** No other leg is joined: once the handler's audio in the mix has played, the primary is served directly again. */
  async #retireWhenIdle(): Promise<void> {
    const conf = this.#conference;
    if (!conf) return;
    const idle = new AbortController();
    await conf.handlerOutput.whenQueuedAtMost(0, idle.signal);
    if (this.#conference !== conf || [...this.#legs.values()].some((l) => l.joined)) return;
    this.#conference = null;
    this.#view?.useConference(null);
    conf.close();
  }
}
