import type { LegResponse, LegStatus, PhoneProvider } from '@switchboard/protocol';
import type { CallEvent, CallListeners, CallState, ConnectOptions, PipelineListeners } from './call-types.ts';

export type { BotEvent, CallEvent, CallListeners, CallState, ConnectOptions } from './call-types.ts';
import { Edge } from './edge.ts';
import { Emitter } from './emitter.ts';
import { SwitchboardError } from './errors.ts';
import { EventQueue } from './event-queue.ts';
import { LevelMeter } from './levels.ts';
import { Liveness } from './liveness.ts';
import { defaultAudio, getMicrophone } from './microphone.ts';
import { newPeerConnection, whenConnected } from './peer.ts';
import { Trickler } from './trickle.ts';

/** The edge keeps a session whose connection was lost resumable this long (its RESUME_WINDOW_MS). */
export const RESUME_WINDOW_MS = 30_000;
/** 'disconnected' often heals by itself; this long without healing counts as lost. */
const DISCONNECTED_MS = 2000;
/** Events larger than this are refused by the worker (the data channel's limit). */
const MAX_EVENT_BYTES = 16_384;

export class Call {
  state: CallState = 'connecting';
  /** Why the call failed, once `state` is 'failed' (or ended by a refusal). */
  error: SwitchboardError | null = null;
  /** The session's URL (WHIP Location), once answered. */
  sessionUrl: string | null = null;
  resumes = 0;
  readonly output: HTMLAudioElement;
  /** Resolves when the call is over ('ended' or 'failed'). */
  readonly ended: Promise<CallState>;

  private readonly emitter = new Emitter<CallListeners>();
  private readonly edge: Edge;
  private readonly meter = new LevelMeter();
  private readonly queues = new Set<EventQueue<CallEvent>>();
  private config: RTCConfiguration = {};
  private mic: MediaStream | null = null;
  private readonly ownsMic: boolean;
  private pc: RTCPeerConnection | null = null;
  private channel: RTCDataChannel | null = null;
  private sender: RTCRtpSender | null = null;
  private liveness: Liveness | null = null;
  private trickler: Trickler | null = null;
  private everConnected = false;
  private lostAt: number | null = null;
  private resuming = false;
  private disconnectedTimer: ReturnType<typeof setTimeout> | undefined;
  private finish!: (s: CallState) => void;

  private readonly o: ConnectOptions;

  constructor(o: ConnectOptions = {}) {
    this.o = o;
    this.edge = new Edge({ url: o.url ?? globalThis.location?.origin ?? '', token: o.token, fetch: o.fetch });
    this.ownsMic = !(typeof MediaStream !== 'undefined' && o.audio instanceof MediaStream);
    this.output = o.output ?? Object.assign(new Audio(), { autoplay: true });
    this.ended = new Promise((r) => (this.finish = r));
    for (const [name, fn] of Object.entries(o.on ?? {})) if (fn) this.emitter.on(name as keyof CallListeners, fn as never);
  }

  on<K extends keyof CallListeners>(name: K, fn: CallListeners[K]): () => void {
    return this.emitter.on(name, fn);
  }

  /** The worker's events as an async iterator (from now on; buffered up to 1000), ending with the call. */
  events(): AsyncIterableIterator<CallEvent> {
    const q: EventQueue<CallEvent> = new EventQueue(1000, () => this.queues.delete(q));
    if (this.over) q.end();
    else this.queues.add(q);
    return q;
  }

  get sessionId(): string | null {
    return this.sessionUrl?.split('/').pop() ?? null;
  }
  get peerConnection(): RTCPeerConnection | null {
    return this.pc;
  }
  get microphone(): MediaStream | null {
    return this.mic;
  }
  /** Pongs received on the current connection (the liveness probe is answered). */
  get pongs(): number {
    return this.liveness?.pongs ?? 0;
  }
  get muted(): boolean {
    return this.mic?.getAudioTracks().every((t) => !t.enabled) ?? false;
  }
  private get over(): boolean {
    return this.state === 'ended' || this.state === 'failed';
  }

  /** Sends an event to the handler (`{type: 'input', ...}` or any object with a string `type`). False while not connected. */
  send(event: { type: string; [k: string]: unknown }): boolean {
    if (typeof event?.type !== 'string' || event.type.length === 0) throw new TypeError('send: an event is an object with a non-empty string "type"');
    const text = JSON.stringify(event);
    if (text.length > MAX_EVENT_BYTES) throw new RangeError(`send: event larger than ${MAX_EVENT_BYTES} bytes`);
    if (this.channel?.readyState !== 'open') return false;
    this.channel.send(text);
    return true;
  }

  /** Mutes the microphone (silence is sent, so the handler hears no speech) or unmutes it. */
  mute(muted = true): void {
    for (const t of this.mic?.getAudioTracks() ?? []) t.enabled = !muted;
  }

  /** Live levels, 0..1: the microphone (`input`) and the reply (`output`). */
  levels(): { input: number; output: number } {
    return { input: this.muted ? 0 : this.meter.level('input'), output: this.meter.level('output') };
  }

  /** Switches the microphone mid-call (the new track replaces the old one on the connection). */
  async setInputDevice(deviceId: string): Promise<void> {
    const base = this.o.audio instanceof MediaStream ? {} : (this.o.audio ?? {});
    const next = await getMicrophone({ ...defaultAudio, ...base, deviceId: { exact: deviceId } });
    const wasMuted = this.muted;
    await this.sender?.replaceTrack(next.getAudioTracks()[0] ?? null);
    if (this.ownsMic) this.mic?.getTracks().forEach((t) => t.stop());
    this.mic = next;
    this.mute(wasMuted);
    this.meter.attach('input', next);
  }

  /** Plays the reply on another output device (browsers with `setSinkId`). */
  async setOutputDevice(deviceId: string): Promise<void> {
    const el = this.output as HTMLAudioElement & { setSinkId?: (id: string) => Promise<void> };
    if (!el.setSinkId) throw new SwitchboardError('unsupported', 'this browser cannot choose the audio output device');
    await el.setSinkId(deviceId);
  }

  /** Dials a phone number (E.164) into this call; `leg.joined` follows when the callee answers, `leg.left` when the leg ends. */
  async addLeg(to: string, o: { provider?: PhoneProvider } = {}): Promise<LegResponse> {
    return this.edge.addLeg(this.liveUrl('add leg'), to, o.provider);
  }
  /** Hangs a leg up; resolves with its status (`state: 'left'`). */
  async removeLeg(legId: string): Promise<LegStatus> {
    return this.edge.removeLeg(this.liveUrl('remove leg'), legId);
  }
  /** The call's legs, this caller first; empty until a leg was added. */
  async legs(): Promise<LegStatus[]> {
    return this.edge.legs(this.liveUrl('legs'));
  }
  /** Takes the bot (the handler) out of the call (false) or back in; the worker answers with a `bot` event. False while not connected. */
  setBot(active: boolean): boolean {
    return this.send({ type: 'bot', active });
  }

  private liveUrl(what: string): string {
    if (this.over || !this.sessionUrl) throw new SwitchboardError('not_connected', `${what}: the call is not connected`);
    return this.sessionUrl;
  }

  /** Ends the call: the session is hung up on the edge (`DELETE`) and the microphone released. */
  async hangup(): Promise<void> {
    if (this.over) return;
    const url = this.sessionUrl;
    this.close('ended');
    if (url) await this.edge.hangup(url).catch(() => {});
  }

  /** @internal Starts the call: see `connect()`. */
  async start(): Promise<void> {
    const signal = this.o.signal;
    const onAbort = () => void this.hangup();
    signal?.addEventListener('abort', onAbort);
    try {
      const [iceServers, mic] = await Promise.all([this.edge.iceServers(signal), this.o.audio instanceof MediaStream ? this.o.audio : getMicrophone({ ...defaultAudio, ...this.o.audio })]);
      this.mic = mic;
      this.meter.attach('input', mic);
      this.config = { iceServers, ...(this.o.iceTransportPolicy ? { iceTransportPolicy: this.o.iceTransportPolicy } : {}) };
      if (this.over) throw new SwitchboardError('aborted', 'connect: aborted');
      const pc = await this.negotiate('/v1/sessions', signal);
      await whenConnected(pc, this.o.connectTimeoutMs ?? 15_000, signal).catch((err: Error) => {
        throw new SwitchboardError(signal?.aborted ? 'aborted' : 'connect_failed', `connect: ${err.message} (the network may block WebRTC; try iceTransportPolicy 'relay')`);
      });
    } catch (err) {
      const e = err instanceof SwitchboardError ? err : new SwitchboardError('connect_failed', `connect: ${String((err as Error)?.message ?? err)}`, { cause: err });
      if (!this.over) {
        const url = this.sessionUrl;
        this.close('failed', e);
        if (url) void this.edge.hangup(url).catch(() => {});
      }
      throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** A new peer connection offered to `path`; resolves once the answer is applied. */
  private async negotiate(path: string, signal?: AbortSignal): Promise<RTCPeerConnection> {
    this.dropPeer();
    const { pc, channel, sender } = newPeerConnection(this.config, this.mic!);
    Object.assign(this, { pc, channel, sender });
    this.trickler = new Trickler(pc, this.edge, (err) => this.warn(err));
    channel.onmessage = (e) => this.onMessage(e.data, pc);
    channel.onopen = () => {
      if (this.pc === pc) this.liveness = new Liveness(channel, () => this.pc === pc && void this.reconnect('liveness'));
    };
    pc.ontrack = (e) => {
      const stream = e.streams[0] ?? new MediaStream([e.track]);
      this.output.srcObject = stream;
      void this.output.play?.().catch(() => {});
      this.meter.attach('output', stream);
    };
    pc.onconnectionstatechange = () => this.onConnectionState(pc);
    await pc.setLocalDescription(await pc.createOffer());
    const answer = await this.edge.offer(path, pc.localDescription!.sdp, signal);
    if (this.pc !== pc) throw new SwitchboardError('aborted', 'connect: aborted');
    this.sessionUrl = answer.location;
    await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    this.trickler.start(answer.location, answer.etag);
    return pc;
  }

  private onMessage(data: unknown, pc: RTCPeerConnection): void {
    if (this.pc !== pc || typeof data !== 'string') return;
    let msg: unknown;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof msg !== 'object' || msg === null || typeof (msg as { type?: unknown }).type !== 'string') return;
    const event = msg as CallEvent;
    if (event.type === 'pong') return this.liveness?.pong();
    this.emitter.emit('event', event);
    this.emitter.emit(event.type as keyof PipelineListeners, event as never);
    for (const q of this.queues) q.push(event);
  }

  private onConnectionState(pc: RTCPeerConnection): void {
    if (pc !== this.pc || this.over) return;
    const s = pc.connectionState;
    clearTimeout(this.disconnectedTimer);
    if (s === 'connected') {
      this.everConnected = true;
      if (this.lostAt !== null) {
        this.emitter.emit('reconnected', { afterMs: Date.now() - this.lostAt, resumes: this.resumes });
        this.lostAt = null;
      }
      this.setState('connected');
    } else if (s === 'failed' && this.everConnected) void this.reconnect('ice');
    else if (s === 'disconnected' && this.everConnected) {
      this.disconnectedTimer = setTimeout(() => this.pc === pc && pc.connectionState === 'disconnected' && void this.reconnect('ice'), DISCONNECTED_MS);
    }
  }

  /**
   * The connection was lost: new peer connections (same microphone, same `events` channel) offer
   * to the session's resume URL until one is answered and connects, the edge refuses for good (the
   * session is over: 404, 409, 410) or the resume window passes. The session keeps its id.
   */
  private async reconnect(reason: 'liveness' | 'ice'): Promise<void> {
    if (this.resuming || this.over || !this.sessionUrl) return;
    if (this.o.resume === false) return this.close('failed', new SwitchboardError('connection_lost', 'the connection was lost'));
    this.resuming = true;
    this.lostAt ??= Date.now();
    const deadline = this.lostAt + RESUME_WINDOW_MS;
    this.setState('reconnecting');
    let attempt = 0;
    try {
      while (!this.over && Date.now() < deadline) {
        this.emitter.emit('reconnecting', { reason, attempt: ++attempt });
        let waitMs = 1000;
        try {
          const pc = await this.negotiate(`${this.sessionUrl}/resume`);
          this.resumes++;
          await whenConnected(pc, Math.max(1, deadline - Date.now()));
          return;
        } catch (err) {
          if (this.over) return;
          if (err instanceof SwitchboardError && err.status !== undefined && !err.retryable) {
            // The session is over (ended, or unknown to the edge) or the edge refuses us for good.
            return this.close(err.status === 404 || err.status === 410 ? 'ended' : 'failed', err);
          }
          this.warn(err);
          if (err instanceof SwitchboardError && err.retryAfterMs !== undefined) waitMs = err.retryAfterMs;
        }
        await new Promise((r) => setTimeout(r, Math.max(0, Math.min(waitMs, deadline - Date.now()))));
      }
      if (!this.over) this.close('failed', new SwitchboardError('resume_failed', `could not resume within ${RESUME_WINDOW_MS / 1000} s`));
    } finally {
      this.resuming = false;
    }
  }

  private warn(err: unknown): void {
    this.emitter.emit('warning', err instanceof SwitchboardError ? err : new SwitchboardError('network', String((err as Error)?.message ?? err), { cause: err }));
  }

  private setState(s: CallState): void {
    if (this.state === s) return;
    this.state = s;
    this.emitter.emit('state', s);
  }

  private dropPeer(): void {
    this.liveness?.stop();
    this.trickler?.close();
    this.pc?.close();
    this.liveness = this.trickler = this.pc = this.channel = this.sender = null;
  }

  private close(s: 'ended' | 'failed', error?: SwitchboardError): void {
    clearTimeout(this.disconnectedTimer);
    this.error = error ?? null;
    this.dropPeer();
    if (this.ownsMic) this.mic?.getTracks().forEach((t) => t.stop());
    this.meter.close();
    this.output.srcObject = null;
    for (const q of this.queues) q.end();
    this.queues.clear();
    this.setState(s);
    this.finish(s);
  }
}
