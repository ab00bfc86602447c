/**
 * What the handler's pipeline sees of a session that may hold several legs: a MediaTransport over
 * the session's first caller (the primary leg) that switches to the conference while one runs.
 *
 * - Alone (no other leg joined), it is the primary transport, frame for frame: audio straight
 *   through, the primary's output, no mixer and no added latency.
 * - In a conference, the handler hears every leg mixed and speaks through the conference's
 *   handler output (to every leg). A reply already queued on the primary when the conference
 *   began plays out there (see conference.ts); new audio goes through the mix.
 * - Events: the primary's (its data channel) plus the other legs' (phone keypresses), each
 *   tagged with its `legId`; events to the client go to the primary (the only leg with a
 *   channel: a phone has none).
 * - The handler can leave (`ctx.legs.leave()`, or the client's `{"type": "bot", "active": false}`):
 *   it then hears nothing and its audio is dropped (MutedOutput), while the conference keeps
 *   bridging the legs; `join()` (`"active": true`) brings it back. The client's `bot` messages are
 *   the platform's, not the handler's: they are answered with `{"type": "bot", "active"}`.
 */
import type { ChannelMessage } from '@switchboard/protocol';
import type { AudioFrame } from '../audio/frame.ts';
import type { PlayoutOutput } from '../audio/playout/types.ts';
import type { MediaTransport } from '../transport/types.ts';
import type { Conference } from './conference.ts';
import { noLegs, type LegsApi } from './legs-api.ts';
import { MutedOutput } from './muted-output.ts';

const MUTED = new MutedOutput();

export class ConferenceView implements MediaTransport {
  readonly primary: MediaTransport;
  readonly #audio = new Set<(frame: AudioFrame) => void>();
  readonly #events = new Set<(event: ChannelMessage) => void>();
  readonly #offs: Array<void | (() => void)> = [];
  #conference: Conference | null = null;
  #offMixed: (() => void) | null = null;
  #present = true;
  /** The session's legs as the handler sees them (`ctx.legs`); set by their owner. */
  legs: LegsApi;

  constructor(primary: MediaTransport) {
    this.primary = primary;
    const alone = noLegs(
      () => ({ legId: '', kind: primary.kind, state: 'joined', primary: true }),
      (cb) => this.onAudio(cb),
    );
    const view = this;
    this.legs = {
      list: alone.list,
      dial: alone.dial,
      hangup: alone.hangup,
      transferAway: alone.transferAway,
      listen: alone.listen,
      speaking: alone.speaking,
      say: alone.say,
      leave: () => this.setPresent(false),
      join: () => this.setPresent(true),
      get present() {
        return view.present;
      },
    };
    this.#offs.push(
      primary.onAudio((frame) => {
        if (this.#conference || !this.#present) return; // the conference mixes it in; a handler that left hears nothing
        for (const cb of this.#audio) cb(frame);
      }),
    );
    this.#offs.push(
      primary.onEvent((event) => {
        if (event.type === 'bot' && typeof event['active'] === 'boolean') {
          if (event['active']) this.legs.join();
          else this.legs.leave();
          return;
        }
        this.#emit(event);
      }),
    );
  }

  /** False while the handler has left the call. */
  get present(): boolean {
    return this.#present;
  }

  /** The handler leaves (false) or rejoins (true); its queued audio is dropped on leaving. The client is told. */
  setPresent(present: boolean): void {
    if (present === this.#present) return;
    if (!present) this.output.clear();
    this.#present = present;
    this.primary.sendEvent({ type: 'bot', active: present });
  }

  get kind(): MediaTransport['kind'] {
    return this.primary.kind;
  }

  get output(): PlayoutOutput {
    if (!this.#present) return MUTED;
    return this.#conference?.handlerOutput ?? this.primary.output;
  }

  /** The conference the handler speaks and listens through from now on (null: the primary alone again). */
  useConference(conference: Conference | null): void {
    this.#offMixed?.();
    this.#offMixed = null;
    this.#conference = conference;
    if (conference)
      this.#offMixed = conference.onMixed((frame) => {
        if (!this.#present) return;
        for (const cb of this.#audio) cb(frame);
      });
  }

  /** An event from another leg (a phone keypress), tagged with the leg it came from. */
  legEvent(legId: string, event: ChannelMessage): void {
    this.#emit({ ...event, legId });
  }

  onAudio(cb: (frame: AudioFrame) => void): () => void {
    this.#audio.add(cb);
    return () => this.#audio.delete(cb);
  }

  onEvent(cb: (event: ChannelMessage) => void): () => void {
    this.#events.add(cb);
    return () => this.#events.delete(cb);
  }

  onClose(cb: (reason: string) => void): void | (() => void) {
    return this.primary.onClose(cb);
  }

  sendEvent(event: ChannelMessage): void {
    this.primary.sendEvent(event);
  }

  close(reason: string): void {
    this.detach();
    this.primary.close(reason);
  }

  /** Stops listening to the primary (its pipeline ended; the transport stays with its owner). */
  detach(): void {
    for (const off of this.#offs.splice(0)) off?.();
    this.#offMixed?.();
    this.#offMixed = null;
  }

  #emit(event: ChannelMessage): void {
    for (const cb of this.#events) cb(event);
  }
}
