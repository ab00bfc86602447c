/**
 * Accounting of the assistant's replies for barge-in: which audio of which conversation item was
 * received, handed to playout (yielded), and where in the reply's playout segment each item
 * starts; on barge-in, from the ms the platform says the caller heard of the segment
 * (`ctx.clearPlayback()`), where to truncate each item and what text was heard.
 *
 * A reply is one assistant turn: the audio of one response, or of a chain of responses linked by
 * tool calls (the turn goes on after the tool output), so it maps to one playout segment.
 * Heard text is approximated by the heard fraction of each item's audio applied to its
 * transcript (speech rate taken as even), cut back to a word boundary.
 *
 * When the model session is lost (detach()), its items are gone from the model's conversation:
 * their replies still play and can still be cut by a barge-in, but no truncation is asked for them.
 */

/** What the transcript event allows (protocol TranscriptEvent.text). */
export const MAX_TRANSCRIPT_CHARS = 8192;
/** Items tracked per reply (a tool-call loop makes one per response); later ones are not tracked. */
const MAX_ITEMS = 256;
/** Replies tracked: the one playing and the one being received; older ones count as heard. */
const MAX_REPLIES = 4;

export interface ItemAudio {
  readonly itemId: string;
  /** Ms of its audio received from the server. */
  receivedMs: number;
  /** Ms of it handed to playout. */
  yieldedMs: number;
  /** Offset of its first audio in the reply's segment (ms), once yielded. */
  startMs: number | undefined;
  /** Its transcript so far (deltas, or the final text). */
  text: string;
  /** `response.output_audio.done` came: receivedMs is all its audio. */
  audioDone: boolean;
  /** Its final transcript came (the owner logged it). */
  textDone: boolean;
}

export class Reply {
  /** Set when its `reply.start` is yielded. */
  turn: number | undefined;
  yieldedMs = 0;
  receivedMs = 0;
  /** No more audio joins it (its last response ended without tool calls, or the model session was lost). */
  closed = false;
  /** Its items belong to a model session that was lost (nothing to truncate). */
  detached = false;
  readonly items = new Map<string, ItemAudio>();
}

export interface Truncation {
  itemId: string;
  audioEndMs: number;
}

export interface Cut {
  reply: Reply;
  /** Ms of the reply the caller heard. */
  heardMs: number;
  /** `conversation.item.truncate`s to send. */
  truncations: Truncation[];
  /** The transcript of what was heard (approximate). */
  heardText: string;
}

export class ReplyTracker {
  #replies: Reply[] = [];

  /** The reply new audio joins: the newest unless closed, else a new one. */
  current(): Reply {
    const last = this.#replies.at(-1);
    if (last && !last.closed) return last;
    const r = new Reply();
    this.#replies.push(r);
    if (this.#replies.length > MAX_REPLIES) this.#replies.shift();
    return r;
  }

  /** The newest reply still open, if any. */
  open(): Reply | undefined {
    const last = this.#replies.at(-1);
    return last && !last.closed ? last : undefined;
  }

  item(reply: Reply, itemId: string): ItemAudio | undefined {
    let it = reply.items.get(itemId);
    if (!it && reply.items.size < MAX_ITEMS) {
      it = { itemId, receivedMs: 0, yieldedMs: 0, startMs: undefined, text: '', audioDone: false, textDone: false };
      reply.items.set(itemId, it);
    }
    return it;
  }

  received(reply: Reply, itemId: string, ms: number): void {
    reply.receivedMs += ms;
    const it = this.item(reply, itemId);
    if (it) it.receivedMs += ms;
  }

  /** Appends a transcript delta, or (final) replaces the text. */
  text(reply: Reply, itemId: string, text: string, final: boolean): void {
    const it = this.item(reply, itemId);
    if (!it) return;
    it.text = (final ? text : it.text + text).slice(0, MAX_TRANSCRIPT_CHARS);
    it.textDone ||= final;
  }

  /**
   * The model session was lost: every reply is detached, and the one being received is closed
   * (its unreceived rest will not come). Returns that reply, with the transcript received of its
   * items whose final transcript never came.
   */
  detach(): { reply: Reply; text: string } | undefined {
    const open = this.open();
    for (const r of this.#replies) r.detached = true;
    if (!open) return undefined;
    open.closed = true;
    const text = orderOfPlay(open)
      .filter((it) => !it.textDone)
      .map((it) => it.text.trim())
      .filter(Boolean)
      .join(' ');
    return { reply: open, text: text.slice(0, MAX_TRANSCRIPT_CHARS) };
  }

  /** `ms` of the item were handed to playout. Replies older than this one have left the playout segment. */
  yielded(reply: Reply, itemId: string, ms: number): void {
    const it = this.item(reply, itemId);
    if (it) {
      it.startMs ??= reply.yieldedMs;
      it.yieldedMs += ms;
    }
    reply.yieldedMs += ms;
    const i = this.#replies.indexOf(reply);
    if (i > 0) this.#replies.splice(0, i);
  }

  /** Whether any audio was received and not yet known to be heard whole: the cue to clear playback on barge-in. */
  get hasAudio(): boolean {
    return this.#replies.some((r) => r.receivedMs > 0);
  }

  /**
   * Barge-in. `playedMs`: what the caller heard of the newest playout segment (clearPlayback()).
   * Returns a cut per reply not heard whole, and forgets every reply.
   */
  interrupt(playedMs: number): Cut[] {
    const lastYielded = this.#replies.findLast((r) => r.yieldedMs > 0);
    const cuts: Cut[] = [];
    for (const r of this.#replies) {
      // Older replies than the segment's have played out (the segment follows theirs).
      const heard = r === lastYielded ? Math.min(Math.max(0, playedMs), r.yieldedMs) : r.yieldedMs;
      // The playout engine pads a reply's last partial frame: heard within 1 ms of all of it is all of it.
      if (r.closed && r.receivedMs <= r.yieldedMs && heard >= r.yieldedMs - 1) continue;
      const truncations: Truncation[] = [];
      const texts: string[] = [];
      for (const it of orderOfPlay(r)) {
        if (it.receivedMs <= 0) continue;
        const end = it.startMs === undefined ? 0 : Math.min(Math.max(0, heard - it.startMs), it.receivedMs);
        const whole = it.audioDone && end >= it.receivedMs - 1;
        if (!whole && !r.detached) truncations.push({ itemId: it.itemId, audioEndMs: Math.floor(end) });
        const text = whole ? it.text : cutText(it.text, end / it.receivedMs);
        if (text) texts.push(text);
      }
      cuts.push({ reply: r, heardMs: heard, truncations, heardText: texts.join(' ') });
    }
    this.#replies = [];
    return cuts;
  }
}

/** Items in the order they play: yielded ones by their start, then those never yielded. */
function orderOfPlay(r: Reply): ItemAudio[] {
  const items = [...r.items.values()];
  return items.sort((a, b) => (a.startMs ?? Infinity) - (b.startMs ?? Infinity));
}

/** The first `fraction` of `text`, without a trailing partial word. */
export function cutText(text: string, fraction: number): string {
  if (!(fraction > 0)) return '';
  if (fraction >= 1) return text;
  const n = Math.round(text.length * fraction);
  if (n >= text.length) return text;
  const cut = /\s/.test(text[n] ?? ' ') ? text.slice(0, n) : text.slice(0, n).replace(/\S*$/, '');
  return cut.trimEnd();
}
