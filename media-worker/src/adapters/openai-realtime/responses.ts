/**
 * The model's responses in flight on the current Realtime session: the one being generated, those
 * a barge-in cancelled (their late events are dropped), the reply each one's audio joins (the
 * responses of a tool chain join one reply), and their function calls (tools.ts).
 */
import type { Reply, ReplyTracker } from './reply-tracker.ts';
import { PendingCalls, type ToolCall } from './tools.ts';

/** Cancelled response ids remembered (their late deltas are dropped). */
export const MAX_DROPPED = 32;

export interface Done {
  /** The reply its audio joined, if any did. */
  reply: Reply | undefined;
  calls: ToolCall[];
  /** A barge-in cancelled it (and settled its reply). */
  cancelled: boolean;
}

export class Responses {
  /** The response being generated, if any. */
  active: string | undefined;
  readonly calls = new PendingCalls();
  readonly #tracker: ReplyTracker;
  readonly #dropped = new Set<string>();
  readonly #replyOf = new Map<string, Reply>();

  constructor(tracker: ReplyTracker) {
    this.#tracker = tracker;
  }

  /** A barge-in cancelled it: its events are ignored. */
  dropped(id: string): boolean {
    return this.#dropped.has(id);
  }

  /** The reply a response's audio joins: an open one (a tool chain's), or a new one. */
  replyFor(id: string): Reply {
    let reply = this.#replyOf.get(id);
    if (!reply) {
      reply = this.#tracker.current();
      this.#replyOf.set(id, reply);
    }
    return reply;
  }

  /** Barge-in: cancels the response being generated; true when there was one (the server is to be told). */
  cancelActive(): boolean {
    if (!this.active || this.#dropped.has(this.active)) return false;
    this.#dropped.add(this.active);
    if (this.#dropped.size > MAX_DROPPED) this.#dropped.delete(this.#dropped.values().next().value!);
    return true;
  }

  /** `response.done`: the response is forgotten. */
  done(id: string): Done {
    if (this.active === id) this.active = undefined;
    const reply = this.#replyOf.get(id);
    this.#replyOf.delete(id);
    return { reply, calls: this.calls.take(id), cancelled: this.#dropped.has(id) };
  }

  /** The session was lost: no response of it will finish. Returns the ids of the tool calls running (abandoned). */
  lost(): string[] {
    this.active = undefined;
    this.#replyOf.clear();
    return this.calls.abandon();
  }
}
